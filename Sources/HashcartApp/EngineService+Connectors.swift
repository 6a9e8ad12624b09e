import HashcartCore
import HashcartServer
import Prometheus

/// The health of this mode's network connectors: on the operator's console and in `/metrics`
/// (gauges labelled by mode and network, set from the connectors' counters when scraped).
extension EngineService {
    public func connectorHealth() async -> [ConnectorHealthView] {
        engines.keys.sorted { $0.rawValue < $1.rawValue }.map { network in
            let health = engines[network]!.connector.health()
            return ConnectorHealthView(network: network.rawValue, connected: health.connected, streamsOpen: health.streamsOpen,
                                       streamsWanted: health.streamsWanted, reconnects: health.reconnects, refused: health.refused,
                                       events: health.events, lastEvent: health.lastEventAt.map { $0.millisecondsSinceEpoch / 1000 },
                                       lagMilliseconds: health.lagMilliseconds)
        }
    }

    public func recordConnectorHealth() async {
        for view in await connectorHealth() {
            let labels = [("mode", mode.rawValue), ("network", view.network)]
            func gauge(_ name: String, _ unit: String, _ help: String, _ value: Double) {
                metrics.makeGauge(descriptor: MetricNameDescriptor(namespace: "hashcart", subsystem: "connector", metricName: name,
                                                                   unitName: unit, helpText: help), labels: labels).set(value)
            }
            gauge("connected", "", "1 when every stream the connector wants is open.", view.connected ? 1 : 0)
            gauge("streams_open", "", "Streams the connector keeps open now.", Double(view.streamsOpen))
            gauge("reconnects", "", "Connections opened again after a stream's first, since start.", Double(view.reconnects))
            gauge("refused", "", "Payloads refused as malformed, truncated or oversize, since start.", Double(view.refused))
            gauge("events", "", "Events handed to the engine, since start.", Double(view.events))
            if let lag = view.lagMilliseconds {
                gauge("lag", "seconds", "How long the newest event took to arrive after it was made.", Double(lag) / 1000)
            }
        }
    }
}
