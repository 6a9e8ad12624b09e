import HashcartCore
import Testing

/// Hashtags that cannot impersonate another merchant's (Unicode TR39).
@Suite struct HashtagImpersonationTests {
    @Test(arguments: ["#BuyKindleFireHD\u{034F}", "#BuyKindle\u{FE0F}FireHD", "#BuyKindl\u{0336}e", "#Buy\u{200B}Kindle", "#BuyKindle\u{E0041}",
                      "#BuyKindlе", "#ВuyKindle", "#BuyΚindle", "#BuyKindleФ", "#Buyкindle"])
    func aTagWithHiddenMarksOrMixedScriptsIsRefusedForAnOffer(tag: String) {
        #expect(throws: ValidationError.self, "\(tag.unicodeScalars.map { String($0.value, radix: 16) })") {
            _ = try Hashtag(tag).checkedForOffer()
        }
    }

    @Test(arguments: ["#BuyKindleFireHD", "#Buy_2013", "#Café", "#ЗимняяРаспродажа", "#ΑγοράΤώρα", "#セール2024", "#Sale東京セール", "#Buyセール",
                      "#ＢｕｙＫｉｎｄｌｅ", "#한국Sale"])
    func ordinaryTagsInOneScriptOrAnAllowedMixAreAccepted(tag: String) throws {
        _ = try Hashtag(tag).checkedForOffer()
    }

    @Test func lookAlikesShareASkeletonAndDifferentTagsDoNot() throws {
        let original = try Hashtag("#BuyKindleFireHD").skeleton
        for lookalike in ["#BuyKindIeFireHD", "#BuyKind1eFireHD", "#buykindlefirehd", "#ＢｕｙＫｉｎｄｌｅＦｉｒｅＨＤ", "#ВuуKindleFireHD"] {
            #expect(try Hashtag(lookalike).skeleton == original, "\(lookalike)")
        }
        #expect(try Hashtag("#BuyXbox360").skeleton == Hashtag("#BuyXb0x36O").skeleton)
        for different in ["#BuyKindleFire", "#BuyKindleFireHDX", "#BuyNookHD", "#SellKindleFireHD"] {
            #expect(try Hashtag(different).skeleton != original, "\(different)")
        }
    }
}
