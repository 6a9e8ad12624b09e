import Foundation
import HashcartCore
import HTTPTypes
import Hummingbird

/// What anyone may ask, without a credential or a mode: liveness, readiness (every mode's store
/// answers), the process's metrics (Prometheus) and the OpenAPI document.
struct SystemRoutes<Service: HashcartService> {
    let services: ModeServices<Service>

    func add(to router: Router<HashcartRequestContext>) {
        let services = self.services
        router.get("/healthz") { _, _ in try json(["status": "ok"]) }
        let openAPI = HashcartRouter.openAPIDocument
        router.get("/openapi.yaml") { _, _ in text(openAPI, contentType: "application/yaml; charset=utf-8") }
        router.get("/metrics") { _, _ in
            // Each mode sets its connectors' gauges (in the shared registry) before it is read.
            for mode in services.modes { await services[mode]?.recordConnectorHealth() }
            return text(await services.any.metricsText(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/readyz") { _, _ in
            for mode in services.modes {
                guard await services[mode]!.isReady() else {
                    throw APIError(status: .serviceUnavailable, type: .api, code: "not_ready", message: "The \(mode) store is not answering yet.")
                }
            }
            return try json(["status": "ready"])
        }

    }
}
