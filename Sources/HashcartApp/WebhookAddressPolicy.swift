import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address as the system reads it: IPv4 as a 32-bit number, IPv6 as 16 bytes.
public enum NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt8])

    /// Reads `text` the way the system's resolver does, so a check cannot disagree with the
    /// connection: IPv6 by `inet_pton` (brackets allowed, zone ids refused), IPv4 by `inet_aton`,
    /// which also reads the legacy spellings browsers, curl and libc accept — decimal
    /// (`2130706433`), hex (`0x7f.1`), octal (`0177.0.0.1`) and one- to three-part forms (`127.1`,
    /// `0`). Nil for anything that is not an address (a name).
    public init?(parsing text: String) {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.utf8.count <= 64, !host.contains("%") else { return nil }
        if host.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, host, &address) == 1 else { return nil }
            self = .v6(withUnsafeBytes(of: &address) { Array($0) })
            return
        }
        var address = in_addr()
        guard inet_aton(host, &address) != 0 else { return nil }
        self = .v4(UInt32(bigEndian: address.s_addr))
    }

    /// The canonical text form (dotted quad; RFC 5952 IPv6 from `inet_ntop`).
    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
        case .v6(let bytes):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::?" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Why Hashcart must never send to this address, or nil for a public unicast address.
    public var refusal: String? {
        switch self {
        case .v4(let value):
            return Self.refusal(v4: value)
        case .v6(let bytes):
            let prefix96 = bytes[0..<12]
            let embedded = UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15])
            if prefix96.allSatisfy({ $0 == 0 }) {
                if embedded == 0 { return "the unspecified address" }
                if embedded == 1 { return "loopback" }
                return Self.refusal(v4: embedded).map { "IPv4-compatible \($0)" } ?? "an IPv4-compatible address (deprecated)"
            }
            if prefix96.elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) {
                return Self.refusal(v4: embedded).map { "IPv4-mapped \($0)" } ?? "an IPv4-mapped address"
            }
            if bytes[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]) {  // NAT64 64:ff9b::/96
                return Self.refusal(v4: embedded).map { "NAT64 \($0)" }
            }
            if bytes[0] == 0x20, bytes[1] == 0x02 {  // 6to4 2002::/16 embeds an IPv4 address
                let inner = UInt32(bytes[2]) << 24 | UInt32(bytes[3]) << 16 | UInt32(bytes[4]) << 8 | UInt32(bytes[5])
                return Self.refusal(v4: inner).map { "6to4 \($0)" }
            }
            if bytes[0] == 0xFF { return "multicast" }
            if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return "link-local" }
            if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return "site-local (deprecated)" }
            if bytes[0] & 0xFE == 0xFC { return "unique-local (private)" }  // fc00::/7, fd00:ec2::254 (AWS metadata) among them
            if bytes[0] == 0x20, bytes[1] == 0x01, bytes[2] == 0x0D, bytes[3] == 0xB8 { return "documentation" }
            if bytes[0] == 0x01, bytes[1..<8].allSatisfy({ $0 == 0 }) { return "discard-only" }  // 100::/64
            return nil
        }
    }

    static func refusal(v4 value: UInt32) -> String? {
        func within(_ base: UInt32, _ bits: UInt32) -> Bool { bits == 0 || value >> (32 - bits) == base >> (32 - bits) }
        if value == 0xA9FE_A9FE { return "the cloud metadata address" }  // 169.254.169.254
        let ranges: [(UInt32, UInt32, String)] = [
            (0x0000_0000, 8, "\"this network\" (0.0.0.0/8)"), (0x0A00_0000, 8, "private (10/8)"), (0x6440_0000, 10, "shared CGNAT (100.64/10)"),
            (0x7F00_0000, 8, "loopback"), (0xA9FE_0000, 16, "link-local"), (0xAC10_0000, 12, "private (172.16/12)"),
            (0xC000_0000, 24, "IETF protocol assignments (192.0.0/24)"), (0xC000_0200, 24, "documentation"), (0xC058_6300, 24, "6to4 relay"),
            (0xC0A8_0000, 16, "private (192.168/16)"), (0xC612_0000, 15, "benchmarking (198.18/15)"), (0xC633_6400, 24, "documentation"),
            (0xCB00_7100, 24, "documentation"), (0xE000_0000, 4, "multicast"), (0xF000_0000, 4, "reserved (240/4, broadcast)"),
        ]
        return ranges.first { within($0.0, $0.1) }?.2
    }
}

/// Why a webhook URL or its host is refused; the message names the reason, never what a host answered.
public struct WebhookURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The one check every webhook URL passes: when an endpoint is created, and again at every
/// delivery, on the addresses the host resolves to at that moment.
///
/// A URL must be `https` (or `http` outside live mode), carry no credentials, and name a public
/// host: a literal address is read as the system reads it (``NetworkAddress``) and refused if it
/// is loopback, private, link-local, unique-local, CGNAT, multicast, reserved, unspecified, the
/// metadata address, or an IPv4-mapped, -compatible, NAT64 or 6to4 form of one of those. A name
/// (lowercased, one trailing dot dropped) is refused if it is `localhost`, under `.localhost`,
/// `.local`, `.internal`, `.localdomain`, `.home.arpa`, or has no dot at all; at delivery its every
/// resolved address must pass.
public struct WebhookAddressPolicy: Sendable, Hashable {
    /// Let endpoints point at loopback and private addresses (test mode's `--allow-private-webhooks`).
    public var allowPrivate: Bool
    /// Only `https` (live mode).
    public var requireHTTPS: Bool

    public static let maximumURLLength = 2_048

    /// The form every webhook URL has (the OpenAPI document states the same pattern): a named
    /// host of LDH labels with a letter-led top label (no address literals), an optional port, and an RFC
    /// 3986 path and query. Test mode's `--allow-private-webhooks` trials skip it (loopback receivers).
    public static let urlPattern = #"^https?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?\.?(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"#
    static let urlExpression = try! NSRegularExpression(pattern: urlPattern)

    public init(allowPrivate: Bool = false, requireHTTPS: Bool = false) {
        self.allowPrivate = allowPrivate
        self.requireHTTPS = requireHTTPS
    }

    /// What a checked URL connects to.
    public struct Target: Sendable, Hashable {
        /// The host as written in the URL, lowercased, without brackets.
        public var host: String
        /// The host as a literal address, if it is one.
        public var address: NetworkAddress?
        public var port: Int
        public var isHTTPS: Bool
    }

    /// Checks the URL's form and its host (a literal address fully; a name by its form only).
    public func check(url text: String) throws(WebhookURLError) -> Target {
        guard text.utf8.count <= Self.maximumURLLength, let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let rawHost = components.host, !rawHost.isEmpty, components.user == nil, components.password == nil
        else {
            throw WebhookURLError(message: "`url` must be an http or https URL of at most \(Self.maximumURLLength) characters, without credentials.")
        }
        guard allowPrivate || Self.urlExpression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil else {
            throw WebhookURLError(message: "`url` must be an http or https URL of a named host (letters, digits and hyphens; no address literals), an optional port, and a plain path and query.")
        }
        guard scheme == "https" || !requireHTTPS else {
            throw WebhookURLError(message: "`url` must be https: live webhooks carry names and addresses.")
        }
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty, !host.hasSuffix("."), !host.contains("%") else {
            throw WebhookURLError(message: "`url` has no usable host.")
        }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65_535).contains(port) else { throw WebhookURLError(message: "`url` has a port outside 1…65535.") }
        let target = Target(host: host, address: NetworkAddress(parsing: host), port: port, isHTTPS: scheme == "https")
        if let address = target.address {
            try check(address, host: host)
        } else if !allowPrivate {
            let isInternal = ["localhost", "localhost.localdomain"].contains(host)
                || [".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp"].contains { host.hasSuffix($0) }
            guard !isInternal, host.contains(".") else {
                throw WebhookURLError(message: "`url` names a local or internal host (\(host.prefix(64))); webhook endpoints must be public.")
            }
            guard host.unicodeScalars.allSatisfy({ $0.isASCII }) else {
                throw WebhookURLError(message: "`url` must name its host in ASCII (punycode for international names).")
            }
        }
        return target
    }

    /// Refuses an address Hashcart must never send to.
    public func check(_ address: NetworkAddress, host: String) throws(WebhookURLError) {
        guard !allowPrivate, let reason = address.refusal else { return }
        let named = NetworkAddress(parsing: host) == nil ? "\(host.prefix(64)) resolves to \(address)" : "\(address)"
        throw WebhookURLError(message: "refused: \(named) is \(reason); webhook endpoints must be public.")
    }

    /// The addresses `host` resolves to (getaddrinfo, run on a Dispatch thread so no Swift
    /// concurrency thread blocks), at most 32.
    public static func resolve(host: String, port: Int) async throws(WebhookURLError) -> [NetworkAddress] {
        let result: Result<[NetworkAddress], WebhookURLError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                hints.ai_family = AF_UNSPEC
                var list: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, String(port), &hints, &list)
                guard status == 0, let first = list else {
                    continuation.resume(returning: .failure(WebhookURLError(message: "\(host.prefix(64)) does not resolve")))
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [NetworkAddress] = []
                var next: UnsafeMutablePointer<addrinfo>? = first
                while let entry = next, addresses.count < 32 {
                    if let raw = entry.pointee.ai_addr {
                        if entry.pointee.ai_family == AF_INET {
                            let v4 = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                            addresses.append(.v4(UInt32(bigEndian: v4)))
                        } else if entry.pointee.ai_family == AF_INET6 {
                            var v6 = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                            addresses.append(.v6(withUnsafeBytes(of: &v6) { Array($0) }))
                        }
                    }
                    next = entry.pointee.ai_next
                }
                continuation.resume(returning: addresses.isEmpty
                    ? .failure(WebhookURLError(message: "\(host.prefix(64)) has no address")) : .success(addresses))
            }
        }
        return try result.get()
    }

    /// Checks `url` and resolves it now: the one address to connect to, every resolved address
    /// having passed (a name with one private address among public ones is refused whole).
    public func destination(url: String, resolve: (String, Int) async throws(WebhookURLError) -> [NetworkAddress] = { host, port throws(WebhookURLError) in
        try await WebhookAddressPolicy.resolve(host: host, port: port)
    }) async throws(WebhookURLError) -> (target: Target, address: NetworkAddress) {
        let target = try check(url: url)
        if let address = target.address { return (target, address) }
        let addresses = try await resolve(target.host, target.port)
        for address in addresses { try check(address, host: target.host) }
        return (target, addresses[0])
    }
}
