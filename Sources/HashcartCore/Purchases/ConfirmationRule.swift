/// What a repost or reply means for a purchase awaiting confirmation.
public enum ConfirmationVerdict: Sendable, Hashable {
    /// It confirms the purchase.
    case confirms
    /// Someone other than the buyer reposted the confirmation: nothing happens.
    case foreignIdentity
    /// A reply that does not carry the order reference (reply mode): nothing happens.
    case missingReference
    /// Too late: the window had closed when it was made.
    case late
    /// The purchase is not waiting for a confirmation (already confirmed, expired, cancelled…).
    case notAwaiting
}

/// The binding rule: only a repost of *that* confirmation post (or, in reply mode, a reply to it
/// carrying the order reference), by *the same* identity, inside the window, confirms.
public enum ConfirmationRule {
    public static func evaluate(_ event: NetworkEvent, for purchase: Purchase) -> ConfirmationVerdict {
        precondition(event.kind == .repost || event.kind == .reply, "only reposts and replies can confirm")
        precondition(event.referencedPostID == purchase.confirmationPostID, "the event must refer to the confirmation post")
        guard event.author.network == purchase.identity.network, event.author.userID == purchase.identity.userID else {
            return .foreignIdentity
        }
        if event.kind == .reply && !containsReference(event.text, purchase.reference) { return .missingReference }
        switch purchase.state {
        case .awaitingConfirmation:
            return event.createdAt <= purchase.expiresAt ? .confirms : .late
        case .expired:
            return .late
        default:
            return .notAwaiting
        }
    }

    /// Whether `text` holds `reference` as a whole word, case-insensitively.
    static func containsReference(_ text: String, _ reference: String) -> Bool {
        let words = text.uppercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        return words.contains { $0 == reference.uppercased() }
    }
}
