import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Testing

/// A look-alike of an open offer's hashtag is refused for another offer (on both stores), naming
/// the tag it collides with; once the first offer ended, the tag is free again.
@Suite(.onEveryBackend) struct HashtagLookAlikeTests {
    @Test func aLookAlikeOfAnOpenOffersTagIsAConflictNamingIt() throws {
        let world = try TestWorld()
        let shop = try world.engine.createMerchant(name: "Gadgets Inc")
        let impostor = try world.engine.createMerchant(name: "Impostor")
        let first = try world.offer(merchant: shop, hashtag: "#BuyKindleFireHD")
        for lookalike in ["#BuyKindIeFireHD", "#BuyKind1eFireHD", "#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ", "#buykindlefirehd"] {
            do {
                _ = try world.offer(merchant: impostor, hashtag: lookalike)
                Issue.record("accepted \(lookalike)")
            } catch let EngineError.conflict(detail) {
                #expect(detail.contains("#BuyKindleFireHD") || detail.contains("already used"), "\(detail)")
            } catch let error as StoreError {
                #expect("\(error)".contains("already used"), "\(lookalike): \(error)")
            }
        }
        for hidden in ["#BuyKindleFireHD\u{FE0F}", "#BuyKindlеFireHD"] {
            #expect(throws: EngineError.self, "\(hidden)") { _ = try world.offer(merchant: impostor, hashtag: hidden) }
        }
        #expect(try world.store.read { try $0.offers() }.count == 1)
        _ = try world.engine.setLifecycle(of: first.id, to: .ended)
        _ = try world.offer(merchant: impostor, hashtag: "#BuyKindIeFireHD")
    }
}
