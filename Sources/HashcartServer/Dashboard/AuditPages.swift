import HashcartCore
import Hummingbird

/// The audit log: the operator sees every line of the mode (`/audit`), a merchant user its own
/// merchant's (`/activity`). Pages of 100, newest first.
struct AuditPages<Service: HashcartService> {
    let modes: [Mode]
    let service: Service

    func add(to group: RouterGroup<DashboardContext>) {
        group.get("audit") { request, context in
            try context.requireOperator()
            return try await page(request, context, merchantID: nil, section: "audit", path: "/audit")
        }
        group.get("activity") { request, context in
            try await page(request, context, merchantID: try context.merchantID(), section: "activity", path: "/activity")
        }
    }

    func page(_ request: Request, _ context: DashboardContext, merchantID: String?, section: String, path: String) async throws -> Response {
        let before = request.uri.queryParameters.get("before").flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
        let lines = try await service.auditLog(merchantID: merchantID, limit: 100, before: before)
        var data: [String: Any] = [
            "lines": lines.map { line -> [String: Any] in
                ["at": PageFormat.time(line.at), "actor": line.actor, "address": line.address, "action": line.action, "object": line.object,
                 "detail": line.detail]
            },
            "has_lines": !lines.isEmpty,
        ]
        if lines.count == 100, let last = lines.last { data["next"] = "/dashboard/\(context.mode.rawValue)\(path)?before=\(last.number)" }
        return PageRenderer.shared.page("audit", title: merchantID == nil ? "Audit log" : "Activity", data: data,
                                        frame: PageFrame(mode: context.mode, otherModes: modes, principal: context.principal, section: section))
    }
}
