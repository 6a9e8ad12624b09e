/// A merchant's bank account for payouts: where its settlement batches are credited by ACH.
///
/// The account number is private: it is sealed in the store, written only into the NACHA file,
/// and shown elsewhere as its last four digits (``masked``). It is never `Codable`, so it cannot
/// leak into a JSON view by accident.
public struct PayoutAccount: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case checking, savings

        /// The NACHA transaction code of an automated deposit (credit) to this kind of account.
        public var creditTransactionCode: String { self == .checking ? "22" : "32" }
    }

    /// The receiving bank's ABA routing transit number: 9 digits with its check digit.
    public let routingNumber: String
    /// 4 to 17 digits.
    public let accountNumber: String
    public let kind: Kind

    /// Validates both numbers; spaces and hyphens are not accepted (one spelling per account).
    public init(routingNumber: String, accountNumber: String, kind: Kind) throws(ValidationError) {
        guard Self.isRoutingNumber(routingNumber) else {
            throw ValidationError(field: "routing_number", message: "must be a 9-digit ABA routing number with a valid check digit")
        }
        guard (4...17).contains(accountNumber.utf8.count), accountNumber.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ValidationError(field: "account_number", message: "must be 4 to 17 digits")
        }
        self.routingNumber = routingNumber
        self.accountNumber = accountNumber
        self.kind = kind
    }

    /// The ABA checksum: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
    public static func isRoutingNumber(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 9, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        let d = bytes.map { Int($0 - 0x30) }
        let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])
        return sum % 10 == 0 && d != [Int](repeating: 0, count: 9)
    }

    /// `checking ••••6789`: what a page or an API answer may show.
    public var masked: String { "\(kind.rawValue) ••••\(accountNumber.suffix(4))" }

    public var last4: String { String(accountNumber.suffix(4)) }

    /// Never the account number.
    public var description: String { "PayoutAccount(\(routingNumber), \(masked))" }
}

/// What may be shown of a payout account: everything but the account number, of which only the
/// last four digits.
public struct PayoutAccountSummary: Sendable, Hashable {
    public var routingNumber: String
    public var kind: PayoutAccount.Kind
    public var last4: String

    public init(routingNumber: String, kind: PayoutAccount.Kind, last4: String) {
        self.routingNumber = routingNumber
        self.kind = kind
        self.last4 = last4
    }

    public init(_ account: PayoutAccount) {
        self.init(routingNumber: account.routingNumber, kind: account.kind, last4: account.last4)
    }

    /// `checking ••••6789`.
    public var masked: String { "\(kind.rawValue) ••••\(last4)" }
}
