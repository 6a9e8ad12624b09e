import HashcartStore
import Testing

/// Runs each test of a suite once per available store (``TestBackend/available``), with
/// ``TestBackend/current`` set, so one suite proves the same behaviour on SQLite and PostgreSQL.
public struct OnEveryBackend: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> OnEveryBackend? {
        // Once per test (or per case of a parameterized test), not around whole suites.
        test.isSuite || (testCase == nil && test.isParameterized) ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        for backend in TestBackend.available {
            try await TestBackend.$current.withValue(backend) {
                try await function()
            }
        }
    }
}

extension Trait where Self == OnEveryBackend {
    /// Runs the tests on SQLite and, when `HASHCART_TEST_DATABASE_URL` is set, on PostgreSQL.
    public static var onEveryBackend: Self { OnEveryBackend() }
}
