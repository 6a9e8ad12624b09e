/// The 50 US states and the District of Columbia: where a billing address can be, and where an
/// offer can be eligible. Destination-based sales tax is looked up by this code.
public enum USState: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case AL, AK, AZ, AR, CA, CO, CT, DE, DC, FL, GA, HI, ID, IL, IN, IA, KS, KY, LA, ME, MD, MA, MI,
        MN, MS, MO, MT, NE, NV, NH, NJ, NM, NY, NC, ND, OH, OK, OR, PA, RI, SC, SD, TN, TX, UT, VT, VA,
        WA, WV, WI, WY

    /// Parses a two-letter code, case-insensitively (`"ny"` → `.NY`).
    public init?(code: String) {
        guard code.utf8.count == 2 else { return nil }
        self.init(rawValue: code.uppercased())
    }

    public static func < (lhs: USState, rhs: USState) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A bit per state (in `allCases` order), for compact storage of eligible-state sets.
    public var bit: UInt64 { 1 << UInt64(USState.allCases.firstIndex(of: self)!) }

    public static func set(fromBits bits: UInt64) -> Set<USState> {
        Set(allCases.filter { bits & $0.bit != 0 })
    }

    public static func bits(of states: Set<USState>) -> UInt64 {
        states.reduce(0) { $0 | $1.bit }
    }
}
