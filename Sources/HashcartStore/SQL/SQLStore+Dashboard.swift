import Foundation
import HashcartCore

/// Dashboard users and their sessions, written once for both stores. Neither is part of the
/// engine's unit of work: signing in changes no money.
extension SQLStore {
    static var dashboardUserColumns: String {
        "id, email, role, merchant_id, card_account_id, password_hash, created_at, disabled_at"
    }

    static func dashboardUser(_ row: any SQLRow, offset: Int = 0) throws -> DashboardUser {
        let id = try row.text(offset)
        func corrupt(_ detail: String) -> StoreError { .corruptRecord(table: "dashboard_users", id: id, detail: detail) }
        guard let email = try? EmailAddress(validating: try row.text(offset + 1)) else { throw corrupt("email") }
        guard let role = DashboardRole(rawValue: try row.text(offset + 2)) else { throw corrupt("role") }
        let merchantID = try row.optionalText(offset + 3).map { MerchantID($0) }
        let cardAccountID = try row.optionalText(offset + 4).map { CardAccountID($0) }
        guard (role == .merchant) == (merchantID != nil), (role == .cardholder) == (cardAccountID != nil) else { throw corrupt("owner") }
        return DashboardUser(id: id, email: email, role: role, merchantID: merchantID, cardAccountID: cardAccountID,
                             passwordHash: try row.text(offset + 5), createdAt: try row.instant(offset + 6),
                             disabledAt: try row.optionalInstant(offset + 7))
    }

    public func createDashboardUser(_ user: DashboardUser) async throws -> Bool {
        let audit = AuditAction.entry()
        return try await inWriteTransaction { session in
            guard try session.execute("""
                INSERT INTO dashboard_users (\(Self.dashboardUserColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
                """, [.text(user.id), .text(user.email.rawValue), .text(user.role.rawValue), SQLValue(user.merchantID?.rawValue),
                      SQLValue(user.cardAccountID?.rawValue), .text(user.passwordHash), SQLValue(user.createdAt), SQLValue(user.disabledAt)]) == 1
            else { return false }
            try Self.insertAudit(audit, session)
            return true
        }
    }

    public func dashboardUser(email: EmailAddress) async throws -> DashboardUser? {
        try await withReadSession { session in
            try session.queryOne("SELECT \(Self.dashboardUserColumns) FROM dashboard_users WHERE email = $1", [.text(email.rawValue)]) {
                try Self.dashboardUser($0)
            }
        }
    }

    public func dashboardUsers(merchantID: MerchantID?, limit: Int) async throws -> [DashboardUser] {
        try await withReadSession { session in
            if let merchantID {
                return try session.query("SELECT \(Self.dashboardUserColumns) FROM dashboard_users WHERE merchant_id = $1 ORDER BY email LIMIT $2",
                                         [.text(merchantID.rawValue), SQLValue(limit)], limit: limit) { try Self.dashboardUser($0) }
            }
            return try session.query("SELECT \(Self.dashboardUserColumns) FROM dashboard_users ORDER BY email LIMIT $1", [SQLValue(limit)],
                                     limit: limit) { try Self.dashboardUser($0) }
        }
    }

    public func createDashboardSession(_ session: DashboardSession) async throws {
        let audit = AuditAction.entry()
        try await inWriteTransaction { sql in
            try Self.insertAudit(audit, sql)
            try sql.execute("DELETE FROM dashboard_sessions WHERE user_id = $1 AND expires_at <= $2", [.text(session.userID), SQLValue(session.createdAt)])
            // The oldest sessions beyond the limit (this one included in the count) end.
            try sql.execute("""
                DELETE FROM dashboard_sessions WHERE token_hash IN (
                    SELECT token_hash FROM dashboard_sessions WHERE user_id = $1 ORDER BY created_at DESC, token_hash LIMIT 1000 OFFSET $2)
                """, [.text(session.userID), SQLValue(DashboardSession.maximumPerUser - 1)])
            try sql.execute("""
                INSERT INTO dashboard_sessions (token_hash, user_id, csrf_token, created_at, expires_at, address) VALUES ($1, $2, $3, $4, $5, $6)
                """, [.blob(Data(session.tokenHash)), .text(session.userID), .text(session.csrfToken), SQLValue(session.createdAt),
                      SQLValue(session.expiresAt), .text(session.address)])
        }
    }

    public func dashboardSession(tokenHash: [UInt8], now: Instant) async throws -> (session: DashboardSession, user: DashboardUser)? {
        guard tokenHash.count == 32 else { return nil }
        return try await withReadSession { sql in
            try sql.queryOne("""
                SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at, s.address,
                       u.id, u.email, u.role, u.merchant_id, u.card_account_id, u.password_hash, u.created_at, u.disabled_at
                FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id
                WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL
                """, [.blob(Data(tokenHash)), SQLValue(now)]) { row in
                let session = DashboardSession(tokenHash: Array(try row.data(0)), userID: try row.text(1), csrfToken: try row.text(2),
                                               createdAt: try row.instant(3), expiresAt: try row.instant(4), address: try row.text(5))
                return (session, try Self.dashboardUser(row, offset: 6))
            }
        }
    }

    public func deleteDashboardSession(tokenHash: [UInt8]) async throws -> Bool {
        try await withWriteSession { sql in
            try sql.execute("DELETE FROM dashboard_sessions WHERE token_hash = $1", [.blob(Data(tokenHash))]) > 0
        }
    }

    public func deleteDashboardSessions(userID: String) async throws -> Int {
        let audit = AuditAction.entry()
        return try await inWriteTransaction { sql in
            let ended = try sql.execute("DELETE FROM dashboard_sessions WHERE user_id = $1", [.text(userID)])
            try Self.insertAudit(audit, sql)
            return ended
        }
    }
}
