import Foundation

/// The test process's limit on open file descriptors.
///
/// Swift Testing starts every test at once, and each holds its own stores: at the start of a run on
/// PostgreSQL the test process holds about 2,000 descriptors (measured: 2,040 at the peak, of which
/// about 1,700 are SQLite database, WAL and shared-memory files of some 160 stores open together;
/// about 150 once the first minute has passed, so nothing is leaked). A machine whose soft limit is
/// 1,024 would fail opens with EMFILE; the hard limit is usually far higher, and a process may
/// raise its own soft limit up to it.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit, once per process; returns the soft limit now in force.
    @discardableResult
    public static func raise() -> UInt64 { raised }

    private static let raised: UInt64 = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var wanted = limit
            wanted.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 { return UInt64(wanted.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }()
}
