public enum CardTransactionKindTag {}
/// A card transaction's processing key: the kind, the day it was transmitted (UTC), the system
/// trace audit number and the retrieval reference — a repeat of any of them is the same message.
public typealias CardTransactionID = Identifier<CardTransactionKindTag>

/// What a card transaction message reports.
public enum CardTransactionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A purchase (ISO 8583 0200 financial request or 0220 advice).
    case purchase
    /// A reversal of an earlier purchase (0420), found by its retrieval reference.
    case reversal
}

/// One of the issuer's own card transactions, as the card feed or `POST /v1/card_transactions`
/// delivers it, with the PAN already replaced by its ``CardFingerprint``.
public struct CardTransaction: Sendable, Hashable, Codable {
    public var kind: CardTransactionKind
    public var card: CardFingerprint
    /// Positive, USD.
    public var amount: Money
    /// Card acceptor id (field 42), trimmed of the padding spaces ISO 8583 puts after it.
    public var acceptorID: String
    /// Merchant category code (field 18), if the message carries one.
    public var merchantCategoryCode: String?
    /// Retrieval reference number (field 37): 1–12 letters or digits. A reversal carries its purchase's.
    public var retrievalReference: String
    /// System trace audit number (field 11): six digits.
    public var systemTrace: String
    /// When the transaction happened (field 7, transmission date and time, UTC).
    public var occurredAt: Instant

    public init(kind: CardTransactionKind, card: CardFingerprint, amount: Money, acceptorID: String, merchantCategoryCode: String? = nil,
                retrievalReference: String, systemTrace: String, occurredAt: Instant) {
        self.kind = kind
        self.card = card
        self.amount = amount
        self.acceptorID = acceptorID
        self.merchantCategoryCode = merchantCategoryCode
        self.retrievalReference = retrievalReference
        self.systemTrace = systemTrace
        self.occurredAt = occurredAt
    }

    /// The processing key: kind, UTC day, STAN and RRN. Each part is validated to plain ASCII, so
    /// the key is a safe identifier.
    public var id: CardTransactionID {
        let day = occurredAt.millisecondsSinceEpoch / 86_400_000
        return CardTransactionID("ctx_\(kind == .purchase ? "p" : "r")_\(day)_\(systemTrace)_\(retrievalReference)")
    }

    /// The most a card transaction may be ($100,000.00, the largest offer price).
    public static let maximumAmount = Money.usd(10_000_000)
    /// How far ahead of the receiving clock a transaction may claim to be (a day: time zones, skew).
    public static let maximumFutureMilliseconds: Int64 = 86_400_000

    /// Checks every field, so a malformed message changes nothing.
    public func validated(now: Instant) throws(ValidationError) -> CardTransaction {
        guard amount.currency == .usd, amount.isPositive, amount <= Self.maximumAmount else {
            throw ValidationError(field: "amount", message: "must be between 1 and \(Self.maximumAmount.minorUnits) minor units of USD")
        }
        guard Self.isAcceptorID(acceptorID) else {
            throw ValidationError(field: "acceptor_id", message: "must be 1 to 15 letters, digits, spaces, hyphens or dots")
        }
        if let merchantCategoryCode, !Self.isCategoryCode(merchantCategoryCode) {
            throw ValidationError(field: "mcc", message: "must be four digits")
        }
        guard (1...12).contains(retrievalReference.utf8.count), retrievalReference.utf8.allSatisfy(Self.isAlphanumeric) else {
            throw ValidationError(field: "rrn", message: "must be 1 to 12 letters or digits")
        }
        guard systemTrace.utf8.count == 6, systemTrace.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw ValidationError(field: "stan", message: "must be six digits")
        }
        guard occurredAt.millisecondsSinceEpoch >= 0, occurredAt <= now.adding(milliseconds: Self.maximumFutureMilliseconds) else {
            throw ValidationError(field: "occurred_at", message: "must not be more than a day after now")
        }
        return self
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// 1–15 of letters, digits, space, hyphen, dot, not starting or ending with a space.
    public static func isAcceptorID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...15).contains(bytes.count), bytes.first != 0x20, bytes.last != 0x20 else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x20 || $0 == 0x2D || $0 == 0x2E }
    }

    public static func isCategoryCode(_ text: String) -> Bool {
        text.utf8.count == 4 && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}
