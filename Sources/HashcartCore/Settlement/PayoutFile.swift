/// A NACHA payout file as the store keeps it: its control totals and its text, so that a file
/// lost between the store's commit and the disk can be written again, byte for byte.
public struct PayoutFileRecord: Sendable, Hashable {
    /// `payout_<YYYYMMDD>_<modifier>`.
    public var id: String
    public var createdDay: SettlementDay
    /// The file header's file id modifier: A–Z, then 0–9, for up to 36 files a day.
    public var modifier: Character
    public var createdAt: Instant
    public var totals: NACHAFile.Totals
    public var content: String

    public init(id: String, createdDay: SettlementDay, modifier: Character, createdAt: Instant, totals: NACHAFile.Totals, content: String) {
        self.id = id
        self.createdDay = createdDay
        self.modifier = modifier
        self.createdAt = createdAt
        self.totals = totals
        self.content = content
    }

    /// The modifiers in the order a day's files take them.
    public static let modifiers: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    public static func id(day: SettlementDay, modifier: Character) -> String { "payout_\(day.compact)_\(modifier)" }
}

/// One state's sales tax over a period, for the issuer's return: what was collected on captures,
/// what refunds gave back, and the net the issuer owes the state.
public struct SalesTaxLiability: Sendable, Hashable {
    public var state: USState
    public var collected: Int64
    public var refunded: Int64
    public var net: Int64 { collected - refunded }
    /// Captures and refunds counted.
    public var transferCount: Int64

    public init(state: USState, collected: Int64, refunded: Int64, transferCount: Int64) {
        self.state = state
        self.collected = collected
        self.refunded = refunded
        self.transferCount = transferCount
    }
}
