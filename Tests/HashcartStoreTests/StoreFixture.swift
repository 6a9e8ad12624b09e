import Foundation
import HashcartCore
import HashcartStore
import HashcartTestSupport
import Testing

/// A store on a fresh database of the current test's backend (real SQLite files in a temporary
/// folder, or a PostgreSQL schema of its own), with a few rows written through the same
/// `StoreTransaction` calls the engine uses.
final class StoreFixture {
    let database: TestDatabase
    let key: String
    var store: any HashcartDatabase
    var directory: String { database.directory }

    static let now = Instant(secondsSinceEpoch: 1_790_000_000)
    static let merchantID = MerchantID("mer_fixture")
    static let offerID = OfferID("offer_fixture")
    static let unlimitedOfferID = OfferID("offer_unlimited")
    static let cardA = CardAccountID("card_alpha")
    static let cardB = CardAccountID("card_bravo")
    static let holdID = TransferID("hold:fixture:principal")

    /// Distinctive private values, easy to search for in the raw files.
    static let billingA = BillingAddress(name: "Zenobia Quartermaine", line1: "4417 Quillfeather Lane", line2: "Apt 9C",
                                         city: "Wexhampton", state: .NY, postalCode: "12983-4471")
    static let billingB = BillingAddress(name: "Bartholomew Xylander", line1: "88 Ravenglass Court",
                                         city: "Pellucid Falls", state: .CA, postalCode: "94117")
    static let last4A = "7391"
    static let last4B = "5120"

    init(seed: Bool = true, backend: TestBackend = TestBackend.current) async throws {
        database = try TestDatabase(backend)
        key = AddressCipher.generateEncodedKey()
        store = try await database.open(key: key)
        if seed { try await self.seed() }
    }

    deinit {
        store.closeLater()
    }

    var cardA: CardAccount {
        CardAccount(id: Self.cardA, creditLimit: .usd(500_000), billing: Self.billingA, cardLast4: Self.last4A, createdAt: Self.now)
    }

    var cardB: CardAccount {
        CardAccount(id: Self.cardB, creditLimit: .usd(250_000), billing: Self.billingB, cardLast4: Self.last4B, createdAt: Self.now)
    }

    var merchant: Merchant {
        Merchant(id: Self.merchantID, name: "Gadgets Inc", discountRateBasisPoints: 250, createdAt: Self.now)
    }

    func offer(id: OfferID = StoreFixture.offerID, hashtag: String = "#BuyKindleFireHD", quantity: Int64? = 5) throws -> Offer {
        Offer(id: id, merchantID: Self.merchantID, title: "Kindle Fire HD", sku: "KFHD-7", price: .usd(14999), quantity: quantity,
              startsAt: Self.now, endsAt: Self.now.adding(seconds: 86_400), eligibleStates: [.NY, .CA, .TX],
              hashtag: try Hashtag(hashtag), captureMode: .onConfirmation, confirmationWindowSeconds: 600, createdAt: Self.now)
    }

    /// A merchant, two funded card accounts, two offers and a pending hold: a store the audit finds clean.
    func seed() async throws {
        let offers = [try offer(), try offer(id: Self.unlimitedOfferID, hashtag: "#BuyGiftCard", quantity: nil)]
        let (merchant, cards) = (merchant, [cardA, cardB])
        try await store.write { tx in
            try tx.insertMerchant(merchant)
            for (sequence, card) in cards.enumerated() {
                try tx.insertCardAccount(card)
                try tx.ensureLedgerAccount(LedgerAccounts.creditLine(card.id))
                try Ledger.submit([PurchaseTransfers.creditLimit(card: card.id, amount: card.creditLimit, sequence: sequence + 1, now: Self.now)],
                                  now: Self.now, storage: tx)
            }
            for offer in offers { try tx.insertOffer(offer) }
            // A hold on card A's line (not tied to a purchase).
            try Ledger.submit([Transfer(id: Self.holdID, debit: LedgerAccounts.creditLine(Self.cardA).id,
                                        credit: LedgerAccounts.merchantPayable(Self.merchantID).id, amount: 12_345, type: .pending,
                                        timeoutAt: Self.now.adding(seconds: 3_600), code: .purchasePrincipal, createdAt: Self.now)],
                              now: Self.now, storage: tx)
        }
    }

    var databasePath: String { (directory as NSString).appendingPathComponent(SQLiteStore.fileName) }

    /// Closes the store and opens it again from disk with `key` (default: the same key).
    func reopen(key: String? = nil) async throws {
        try await store.close()
        store = try await database.open(key: key ?? self.key)
    }

    /// The bytes of the SQLite database file and its write-ahead log, as they are on disk now.
    func rawBytes() throws -> Data {
        var data = try Data(contentsOf: URL(fileURLWithPath: databasePath))
        if let wal = FileManager.default.contents(atPath: databasePath + "-wal") { data.append(wal) }
        return data
    }

    /// Every row of every table, as text: a whole-database fingerprint.
    func dump() throws -> [String] {
        try database.dump()
    }

    func audit() async throws -> [InvariantViolation] {
        try await store.read { try $0.audit() }
    }

    func count(_ table: String) async throws -> Int64 {
        try await store.read { try $0.count(table) }
    }
}

struct Boom: Error {}

extension Data {
    func contains(_ text: String) -> Bool {
        range(of: Data(text.utf8)) != nil
    }
}
