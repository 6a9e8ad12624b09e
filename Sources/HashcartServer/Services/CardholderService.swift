/// A cardholder's own objects: purchases, notifications, statement credits, and links (by code
/// or the network's sign-in).
public protocol CardholderService: Sendable {
    /// The card-linked offers the cardholder has loaded (by posting their hashtags) and that
    /// have not ended, newest first: what a later card transaction can still earn.
    func loadedOffers(cardholderID: String, limit: Int) async throws -> ListView<LoadedOfferView>
    /// The networks this mode runs, which cardholders can link accounts on (by name, sorted).
    var networkNames: [String] { get }
    /// The cardholder's receipts and decline reasons, newest first.
    func notifications(cardholderID: String, limit: Int) async throws -> ListView<NotificationView>
    /// The cardholder's statement credits from card-linked offers, newest first.
    func statementCredits(cardholderID: String, limit: Int) async throws -> ListView<StatementCreditView>
    /// The cardholder cancels a purchase before shipment.
    func cancelPurchase(cardholderID: String, id: String) async throws -> PurchaseView
    func createLinkCode(cardholderID: String, _ body: CreateLinkBody) async throws -> LinkCodeView
    /// Starts linking by OAuth: a sign-in at the network, used once within ten minutes.
    /// `browserNonce`: the random value of the starting browser's cookie when a page starts it
    /// (only that browser can then finish it); nil over the API.
    func startOAuthLink(cardholderID: String, _ body: CreateOAuthLinkBody, browserNonce: String?) async throws -> OAuthLinkView
    /// The network sent the person back (`code` and `state`, or `error`): links the account it
    /// proves to the card that started the sign-in. Unauthenticated: the state is the credential.
    /// `browserNonce` is the callback browser's cookie, if it sent one.
    func finishOAuthLink(network: String, state: String, code: String?, error: String?, browserNonce: String?) async throws -> LinkView
    func links(cardholderID: String) async throws -> ListView<LinkView>
    func deleteLink(cardholderID: String, id: String) async throws -> LinkView
    func purchases(cardholderID: String, limit: Int, startingAfter: String?) async throws -> ListView<PurchaseView>
}
