import Foundation
import HashcartCore
import HashcartEngine
import HashcartStore
import HashcartTestSupport
import Testing

/// A look-alike of an open offer's hashtag is refused for another offer (on both stores), naming
/// the tag it collides with; once the first offer ended, the tag is free again.
@Suite(.onEveryBackend) struct HashtagLookAlikeTests {
    @Test func aLookAlikeOfAnOpenOffersTagIsAConflictNamingIt() async throws {
        let world = try await TestWorld()
        let shop = try await world.engine.createMerchant(name: "Gadgets Inc")
        let impostor = try await world.engine.createMerchant(name: "Impostor")
        let first = try await world.offer(merchant: shop, hashtag: "#BuyKindleFireHD")
        for lookalike in ["#BuyKindIeFireHD", "#BuyKind1eFireHD", "#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ", "#buykindlefirehd"] {
            do {
                _ = try await world.offer(merchant: impostor, hashtag: lookalike)
                Issue.record("accepted \(lookalike)")
            } catch let EngineError.conflict(detail) {
                #expect(detail.contains("#BuyKindleFireHD") || detail.contains("already used"), "\(detail)")
            } catch let error as StoreError {
                #expect("\(error)".contains("already used"), "\(lookalike): \(error)")
            }
        }
        for hidden in ["#BuyKindleFireHD\u{FE0F}", "#BuyKindlеFireHD"] {
            await #expect(throws: EngineError.self, "\(hidden)") { _ = try await world.offer(merchant: impostor, hashtag: hidden) }
        }
        #expect(try await world.store.read { try $0.offers() }.count == 1)
        _ = try await world.engine.setLifecycle(of: first.id, to: .ended)
        _ = try await world.offer(merchant: impostor, hashtag: "#BuyKindIeFireHD")
    }

    /// The check reads the open offers inside the write: two merchants creating look-alike tags at
    /// the same moment never both succeed (an earlier version read them just before the write).
    @Test func lookAlikesCreatedAtTheSameMomentNeverBothSucceed() async throws {
        let world = try await TestWorld()
        let shop = try await world.engine.createMerchant(name: "Gadgets Inc")
        let impostor = try await world.engine.createMerchant(name: "Impostor")
        let engine = world.engine
        for round in 0..<25 {
            let (original, lookalike) = ("#BuyKindleFire\(round)", "#BuyKindIeFire\(round)")
            let results = await withTaskGroup(of: Bool.self) { group in
                for (merchant, tag) in [(shop, original), (impostor, lookalike)] {
                    group.addTask {
                        // Both at once: the two writes really race for the store's writer.
                        (try? await engine.createOffer(OfferDraft(merchantID: merchant.id, title: "Kindle Fire", sku: "K-\(tag)",
                                                                  price: .usd(19_900), hashtag: tag, quantity: 5))) != nil
                    }
                }
                var made: [Bool] = []
                for await result in group { made.append(result) }
                return made
            }
            #expect(results.filter { $0 }.count == 1, "round \(round): \(results)")
        }
        #expect(try await world.store.read { try $0.offers() }.count == 25)
    }
}
