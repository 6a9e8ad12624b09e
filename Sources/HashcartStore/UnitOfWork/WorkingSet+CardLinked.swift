import HashcartCore

/// Card-linked offers in the unit of work: loads, card transactions and statement credits. They
/// are few per transaction (a post's load, one card message), so they go straight to the
/// database rather than through buffers; offers and ledger accounts they touch stay buffered.
extension WorkingSet {
    func cardAccount(fingerprint: CardFingerprint) throws -> CardAccount? {
        if let created = newCardsByID.values.first(where: { $0.panFingerprint == fingerprint }) { return created }
        let cipher = cipher
        return try session.queryOne("SELECT \(StoreRows.cardAccountColumns) FROM card_accounts WHERE pan_fingerprint = $1",
                                    [.text(fingerprint.hex)], { try StoreRows.cardAccount($0, cipher: cipher) })
    }

    func statementCreditLoad(offer: OfferID, card: CardAccountID) throws -> StatementCreditLoad? {
        try session.queryOne("SELECT \(StoreRows.loadColumns) FROM statement_credit_loads WHERE offer_id = $1 AND card_account_id = $2",
                             [.text(offer.rawValue), .text(card.rawValue)], StoreRows.load)
    }

    func insertStatementCreditLoad(_ load: StatementCreditLoad, network: NetworkName, postID: String) throws -> Bool {
        try session.execute("""
            INSERT INTO statement_credit_loads (offer_id, card_account_id, network, post_id, loaded_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (offer_id, card_account_id) DO NOTHING
            """, [.text(load.offerID.rawValue), .text(load.cardAccountID.rawValue), .text(network.rawValue), .text(postID),
                  SQLValue(load.loadedAt)]) == 1
    }

    func statementCreditLoads(card: CardAccountID, limit: Int) throws -> [StatementCreditLoad] {
        precondition(limit > 0 && limit <= 10_000, "reads are bounded")
        return try session.query(StoreColumns.openLoadsOfCardSQL, [.text(card.rawValue), SQLValue(limit)], limit: limit, StoreRows.load)
    }

    func cardTransactionExists(_ id: CardTransactionID) throws -> Bool {
        try session.queryOne("SELECT 1 FROM card_transactions WHERE id = $1", [.text(id.rawValue)]) { _ in true } ?? false
    }

    func insertCardTransaction(_ record: CardTransactionRecord) throws {
        try session.insertMany(into: "card_transactions", columns: StoreRows.cardTransactionColumns, rows: [StoreRows.values(of: record)])
    }

    func cardPurchases(fingerprint: CardFingerprint, retrievalReference: String, limit: Int) throws -> [CardTransactionRecord] {
        try cardTransactions(kind: .purchase, fingerprint: fingerprint, retrievalReference: retrievalReference, limit: limit)
    }

    func cardReversals(fingerprint: CardFingerprint, retrievalReference: String, limit: Int) throws -> [CardTransactionRecord] {
        try cardTransactions(kind: .reversal, fingerprint: fingerprint, retrievalReference: retrievalReference, limit: limit)
    }

    private func cardTransactions(kind: CardTransactionKind, fingerprint: CardFingerprint, retrievalReference: String,
                                  limit: Int) throws -> [CardTransactionRecord] {
        precondition(limit > 0 && limit <= 10_000, "reads are bounded")
        return try session.query("""
            SELECT \(StoreRows.names(StoreRows.cardTransactionColumns)) FROM card_transactions
            WHERE card_fingerprint = $1 AND rrn = $2 AND kind = $3 ORDER BY occurred_at, id LIMIT $4
            """, [.text(fingerprint.hex), .text(retrievalReference), .text(kind.rawValue), SQLValue(limit)], limit: limit,
            StoreRows.cardTransaction)
    }

    func statementCredit(_ id: StatementCreditID) throws -> StatementCredit? {
        try session.queryOne("SELECT \(StoreRows.names(StoreRows.statementCreditColumns)) FROM statement_credits WHERE id = $1",
                             [.text(id.rawValue)], StoreRows.statementCredit)
    }

    func statementCredits(transaction: CardTransactionID) throws -> [StatementCredit] {
        try session.query("""
            SELECT \(StoreRows.names(StoreRows.statementCreditColumns)) FROM statement_credits WHERE transaction_id = $1 ORDER BY id
            """, [.text(transaction.rawValue)], limit: StatementCreditLoad.maximumReadPerCard, StoreRows.statementCredit)
    }

    func insertStatementCredit(_ credit: StatementCredit) throws {
        try session.insertMany(into: "statement_credits", columns: StoreRows.statementCreditColumns, rows: [StoreRows.values(of: credit)])
    }

    func updateStatementCredit(_ credit: StatementCredit) throws {
        let changed = try session.execute("UPDATE statement_credits SET state = $1, reversed_at = $2 WHERE id = $3",
                                          [.text(credit.state.rawValue), SQLValue(credit.reversedAt), .text(credit.id.rawValue)])
        precondition(changed == 1, "statement credit \(credit.id) updated before it was inserted")
    }
}

extension StoreRows {
    static let loadColumns = "offer_id, card_account_id, loaded_at"

    static func load(_ row: any SQLRow) throws -> StatementCreditLoad {
        StatementCreditLoad(offerID: OfferID(try row.text(0)), cardAccountID: CardAccountID(try row.text(1)), loadedAt: try row.instant(2))
    }

    static let cardTransactionColumns = SQLColumn.list("""
        id, kind, card_fingerprint, card_account_id, amount:int, acceptor_id, mcc, rrn, stan, occurred_at:int, received_at:int, outcome
        """)

    static func cardTransaction(_ row: any SQLRow) throws -> CardTransactionRecord {
        let id = try row.text(0)
        func bad(_ detail: String) -> StoreError { .corruptRecord(table: "card_transactions", id: id, detail: detail) }
        guard let kind = CardTransactionKind(rawValue: try row.text(1)) else { throw bad("kind") }
        guard let card = CardFingerprint(hex: try row.text(2)) else { throw bad("card_fingerprint") }
        guard let outcome = CardTransactionOutcome(rawValue: try row.text(11)), outcome != .duplicate else { throw bad("outcome") }
        let transaction = CardTransaction(kind: kind, card: card, amount: .usd(try row.int(4)), acceptorID: try row.text(5),
                                          merchantCategoryCode: try row.optionalText(6), retrievalReference: try row.text(7),
                                          systemTrace: try row.text(8), occurredAt: try row.instant(9))
        guard transaction.id.rawValue == id else { throw bad("id does not match the transaction's processing key") }
        return CardTransactionRecord(transaction: transaction, cardAccountID: try row.optionalText(3).map { CardAccountID($0) },
                                     receivedAt: try row.instant(10), outcome: outcome)
    }

    static func values(of r: CardTransactionRecord) -> [SQLValue] {
        let t = r.transaction
        return [.text(t.id.rawValue), .text(t.kind.rawValue), .text(t.card.hex), SQLValue(r.cardAccountID?.rawValue), .int(t.amount.minorUnits),
                .text(t.acceptorID), SQLValue(t.merchantCategoryCode), .text(t.retrievalReference), .text(t.systemTrace),
                SQLValue(t.occurredAt), SQLValue(r.receivedAt), .text(r.outcome.rawValue)]
    }

    static let statementCreditColumns = SQLColumn.list("""
        id, offer_id, merchant_id, card_account_id, transaction_id, amount:int, state, earned_at:int, reversed_at:int
        """)

    static func statementCredit(_ row: any SQLRow) throws -> StatementCredit {
        let id = try row.text(0)
        guard let state = StatementCreditState(rawValue: try row.text(6)) else {
            throw StoreError.corruptRecord(table: "statement_credits", id: id, detail: "state")
        }
        var credit = StatementCredit(offerID: OfferID(try row.text(1)), merchantID: MerchantID(try row.text(2)),
                                     cardAccountID: CardAccountID(try row.text(3)), transactionID: CardTransactionID(try row.text(4)),
                                     amount: .usd(try row.int(5)), earnedAt: try row.instant(7))
        guard credit.id.rawValue == id else {
            throw StoreError.corruptRecord(table: "statement_credits", id: id, detail: "id does not name its offer and card")
        }
        credit.state = state
        credit.reversedAt = try row.optionalInstant(8)
        return credit
    }

    static func values(of c: StatementCredit) -> [SQLValue] {
        [.text(c.id.rawValue), .text(c.offerID.rawValue), .text(c.merchantID.rawValue), .text(c.cardAccountID.rawValue),
         .text(c.transactionID.rawValue), .int(c.amount.minorUnits), .text(c.state.rawValue), SQLValue(c.earnedAt), SQLValue(c.reversedAt)]
    }
}
