/// Text put into HTML the server writes by hand (the OAuth callback page, SVG charts): Mustache
/// escapes the templates' values the same way.
enum HTMLText {
    /// Text as HTML text or attribute value: the five characters with meaning, escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
