import Foundation
import GRDB
import HashcartTestSupport
import HashcartCore
import HashcartStore
import Testing

@Suite(.onEveryBackend) struct StorePersistenceTests {
    @Test func everythingWrittenSurvivesCloseAndReopen() async throws {
        let fixture = try await StoreFixture()
        try await fixture.reopen()

        let (merchant, cardA, cardB, offer, unlimited, transfer, holdStatus, missingCard) = try await fixture.store.write { tx in
            (try tx.merchant(StoreFixture.merchantID), try tx.cardAccount(StoreFixture.cardA), try tx.cardAccount(StoreFixture.cardB),
             try tx.offer(StoreFixture.offerID), try tx.offer(hashtagKey: Hashtag.normalize("BUYGIFTCARD")),
             try tx.transfer(StoreFixture.holdID), try tx.pendingStatus(StoreFixture.holdID), try tx.cardAccount("card_nobody"))
        }
        #expect(merchant == fixture.merchant)
        // The billing address and card digits decrypt exactly, line2 and ZIP+4 included.
        #expect(cardA == fixture.cardA)
        #expect(cardB == fixture.cardB)
        #expect(cardA?.billing.line2 == "Apt 9C" && cardB?.billing.line2 == nil)
        #expect(cardA?.billing.postalCode == "12983-4471")
        #expect(missingCard == nil)
        #expect(try offer == fixture.offer())
        #expect(try unlimited == fixture.offer(id: StoreFixture.unlimitedOfferID, hashtag: "#BuyGiftCard", quantity: nil))
        #expect(transfer?.amount == 12_345 && transfer?.type == .pending && transfer?.timeoutAt == StoreFixture.now.adding(seconds: 3_600))
        #expect(holdStatus == .pending)

        // Ledger accounts: funded credit lines, the hold pending on card A, the merchant's payable.
        let lineA = try #require(try await fixture.store.read { try $0.ledgerAccount(LedgerAccounts.creditLine(StoreFixture.cardA).id) })
        #expect(lineA.creditsPosted == 500_000 && lineA.debitsPending == 12_345 && lineA.debitsPosted == 0)
        #expect(lineA.flags == .debitsMustNotExceedCredits && lineA.code == .cardholderCreditLine)
        #expect(lineA.availableCredit == 500_000 - 12_345)
        let lineB = try #require(try await fixture.store.read { try $0.ledgerAccount(LedgerAccounts.creditLine(StoreFixture.cardB).id) })
        #expect(lineB.creditsPosted == 250_000 && lineB.availableCredit == 250_000)
        let payable = try #require(try await fixture.store.read { try $0.ledgerAccount(LedgerAccounts.merchantPayable(StoreFixture.merchantID).id) })
        #expect(payable.creditsPending == 12_345 && payable.code == .merchantPayable)
        let issuer = try #require(try await fixture.store.read { try $0.ledgerAccount(LedgerAccounts.issuerCreditLines.id) })
        #expect(issuer.debitsPosted == 750_000)
        let accounts = try await fixture.store.read { try $0.ledgerAccounts() }
        #expect(accounts.count == LedgerAccounts.issuerAccounts.count + 3)
        #expect(try await fixture.count("ledger_transfers") == 3)

        // Reads through the reader match, and the reopened store is still clean.
        #expect(try await fixture.store.read { try $0.cardAccount(StoreFixture.cardA) } == fixture.cardA)
        #expect(try await fixture.store.read { try $0.offers() }.map(\.id) == [StoreFixture.offerID, StoreFixture.unlimitedOfferID])
        #expect(try await fixture.audit() == [])
    }

    @Test func reopeningTwiceChangesNothing() async throws {
        let fixture = try await StoreFixture()
        let before = try fixture.dump()
        try await fixture.reopen()
        try await fixture.reopen()
        #expect(try fixture.dump() == before)
    }

    @Test func billingAddressAndCardDigitsAreNotOnDiskInClear() async throws {
        let fixture = try await StoreFixture()
        let secrets = [StoreFixture.billingA.name, StoreFixture.billingA.line1, StoreFixture.billingA.city, "Apt 9C",
                       StoreFixture.billingA.postalCode, "12983", StoreFixture.last4A,
                       StoreFixture.billingB.name, StoreFixture.billingB.line1, StoreFixture.billingB.city, "94117", StoreFixture.last4B]

        // Every column of every row, as the database returns it (sealed bytes as base64).
        let rows = Data(try fixture.dump().joined(separator: "\n").utf8)
        #expect(rows.contains("Gadgets Inc"), "the search itself works: a clear-text merchant name is found")
        for secret in secrets {
            #expect(!rows.contains(secret), "\(secret) is stored in clear text")
        }
        guard fixture.database.backend == .sqlite else { return }
        // SQLite's files themselves, while open (rows still in the WAL) and after close (checkpointed).
        let open = try fixture.rawBytes()
        #expect(open.contains("Gadgets Inc"), "the search itself works: a clear-text merchant name is found")
        for secret in secrets {
            #expect(!open.contains(secret), "\(secret) is stored in clear text")
        }
        try await fixture.store.close()
        let closed = try fixture.rawBytes()
        #expect(closed.contains("Gadgets Inc"))
        for secret in secrets {
            #expect(!closed.contains(secret), "\(secret) is stored in clear text")
        }
        fixture.store = try await fixture.database.open(key: fixture.key)
    }

    @Test func aTransactionThatThrowsMidwayRollsEverythingBack() async throws {
        let fixture = try await StoreFixture()
        let before = try fixture.dump()
        let newCard = CardAccount(id: "card_charlie", creditLimit: .usd(100_000), billing: StoreFixture.billingB, cardLast4: "1111",
                                  createdAt: StoreFixture.now)

        await #expect(throws: Boom.self) {
            try await fixture.store.write { tx in
                try tx.insertMerchant(Merchant(id: "mer_other", name: "Other", discountRateBasisPoints: 100, createdAt: StoreFixture.now))
                try tx.insertCardAccount(newCard)
                try tx.ensureLedgerAccount(LedgerAccounts.creditLine(newCard.id))
                try Ledger.submit([PurchaseTransfers.creditLimit(card: newCard.id, amount: newCard.creditLimit, sequence: 1, now: StoreFixture.now)],
                                  now: StoreFixture.now, storage: tx)
                // Post the existing hold and sell a unit: cached hot rows that a commit would flush.
                try Ledger.submit([Transfer(id: "capture:fixture:principal", debit: LedgerAccounts.creditLine(StoreFixture.cardA).id,
                                            credit: LedgerAccounts.merchantPayable(StoreFixture.merchantID).id, amount: 12_345,
                                            type: .postPending, pendingID: StoreFixture.holdID, code: .capture, createdAt: StoreFixture.now)],
                                  now: StoreFixture.now, storage: tx)
                var offer = try #require(try tx.offer(StoreFixture.offerID))
                offer.soldUnits = 1
                try tx.updateOffer(offer)
                try tx.incrementFunnel(offer: StoreFixture.offerID, metric: "orders", by: 1, at: StoreFixture.now)
                _ = try tx.markEventProcessed(network: .sandbox, eventID: "evt-1", at: StoreFixture.now)
                try tx.enqueueOutbound(OutboundPost(key: "out-1", network: .sandbox, inReplyTo: "p1", text: "Confirmed", purpose: .confirmed,
                                                    purchaseID: nil, cardAccountID: StoreFixture.cardA, createdAt: StoreFixture.now))
                throw Boom()
            }
        }
        #expect(try fixture.dump() == before)
        #expect(try await fixture.store.write { tx in try tx.pendingStatus(StoreFixture.holdID) } == .pending)
        #expect(try await fixture.store.write { tx in try tx.cardAccount(newCard.id) } == nil)

        // A failure inside the database (a duplicate merchant id) after other writes rolls back the same way.
        let merchant = fixture.merchant
        await #expect(throws: (any Error).self) {
            try await fixture.store.write { tx in
                try tx.insertCardAccount(newCard)
                _ = try tx.markEventProcessed(network: .sandbox, eventID: "evt-2", at: StoreFixture.now)
                try tx.insertMerchant(merchant)
            }
        }
        #expect(try fixture.dump() == before)

        // And it survives a reopen: nothing half-written is on disk.
        try await fixture.reopen()
        #expect(try fixture.dump() == before)
        #expect(try await fixture.audit() == [])
    }

    @Test func aCommittedTransactionFlushesItsCachedRows() async throws {
        let fixture = try await StoreFixture()
        try await fixture.store.write { tx in
            var offer = try #require(try tx.offer(StoreFixture.offerID))
            offer.reservedUnits = 2
            try tx.updateOffer(offer)
            try tx.incrementFunnel(offer: StoreFixture.offerID, metric: "posts", by: 3, at: StoreFixture.now)
        }
        try await fixture.reopen()
        let offer = try #require(try await fixture.store.read { try $0.offers() }.first { $0.id == StoreFixture.offerID })
        #expect(offer.reservedUnits == 2 && offer.soldUnits == 0)
        #expect(try await fixture.store.read { try $0.funnel(offer: StoreFixture.offerID) } == ["posts": 3])
    }
}

@Suite struct StoreDurabilityTests {
    /// PRODUCT.md and SQLiteStore promise `synchronous=FULL` on every commit. GRDB's pool switches
    /// its writer to WAL and `synchronous=NORMAL` after `prepareDatabase` ran, so the setting has
    /// to be re-applied afterwards for it to hold.
    @Test func theWriterCommitsWithSynchronousFull() async throws {
        let fixture = try await StoreFixture(seed: false, backend: .sqlite)
        let store = try #require(fixture.store as? SQLiteStore)
        let journal = try await store.pool.write { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        let synchronous = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(synchronous == 2, "PRAGMA synchronous is \(synchronous.map(String.init) ?? "nil") on the writer, not 2 (FULL)")
        try await fixture.reopen()
        let reopened = try await #require(fixture.store as? SQLiteStore).pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(reopened == 2, "after reopen, PRAGMA synchronous is \(reopened.map(String.init) ?? "nil"), not 2 (FULL)")
    }
}
