/// Line charts drawn on the server as SVG, from numbers only: no text from outside ever reaches
/// the drawing (labels are times and counts; series names are the page's own constants).
struct SVGChart {
    struct Series {
        var name: String
        /// A CSS class that gives the line its colour (`s1`…`s4` in dashboard.css).
        var cssClass: String
        var values: [Int64]
    }

    var series: [Series]
    /// The start of each bucket, unix seconds.
    var from: Int64
    var bucketSeconds: Int64
    var width = 720
    var height = 220
    /// Describes the chart for screen readers.
    var summary: String

    func render() -> String {
        let count = series.map(\.values.count).max() ?? 0
        let top = max(series.flatMap(\.values).max() ?? 0, 1)
        let (left, right, upper, lower) = (48, 12, 12, 28)
        let plotWidth = width - left - right, plotHeight = height - upper - lower
        func x(_ index: Int) -> Int { left + (count <= 1 ? plotWidth / 2 : index * plotWidth / (count - 1)) }
        func y(_ value: Int64) -> Int { upper + plotHeight - Int(value * Int64(plotHeight) / top) }
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTMLText.escape(summary))\" xmlns=\"http://www.w3.org/2000/svg\">"
        // Axes and the top value.
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(upper + plotHeight)\" x2=\"\(width - right)\" y2=\"\(upper + plotHeight)\"/>"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(upper)\" x2=\"\(left)\" y2=\"\(upper + plotHeight)\"/>"
        svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(upper + 4)\" text-anchor=\"end\">\(PageFormat.count(top))</text>"
        svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(upper + plotHeight + 4)\" text-anchor=\"end\">0</text>"
        // Up to five time labels.
        if count > 0 {
            let step = max(1, (count - 1) / 4)
            let byDay = bucketSeconds >= 3_600 * 6
            for index in stride(from: 0, to: count, by: step) {
                let at = from + Int64(index) * bucketSeconds
                svg += "<text class=\"tick\" x=\"\(x(index))\" y=\"\(height - 8)\" text-anchor=\"middle\">\(byDay ? PageFormat.day(at) : PageFormat.clock(at))</text>"
            }
        }
        for line in series where !line.values.isEmpty {
            let points = line.values.enumerated().map { "\(x($0.offset)),\(y($0.element))" }.joined(separator: " ")
            svg += "<polyline class=\"line \(HTMLText.escape(line.cssClass))\" points=\"\(points)\"><title>\(HTMLText.escape(line.name))</title></polyline>"
        }
        svg += "</svg>"
        return svg
    }

}

import Foundation

/// A bar chart drawn on the server: one bar per bucket, its count above it. Labels are the page's
/// own constants; values are numbers.
struct SVGBarChart {
    var bars: [(label: String, value: Int64)]
    var summary: String
    var width = 720
    var height = 180

    func render() -> String {
        let top = max(bars.map(\.value).max() ?? 0, 1)
        let (left, bottom, upper) = (8, 24, 18)
        let slot = (width - 2 * left) / max(bars.count, 1)
        let plot = height - bottom - upper
        var svg = "<svg class=\"chart bars\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTMLText.escape(summary))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (index, bar) in bars.enumerated() {
            let barHeight = Int(bar.value * Int64(plot) / top)
            let x = left + index * slot + slot / 8
            svg += "<rect class=\"bar\" x=\"\(x)\" y=\"\(upper + plot - barHeight)\" width=\"\(slot * 3 / 4)\" height=\"\(max(barHeight, 1))\"><title>\(HTMLText.escape(bar.label)): \(bar.value)</title></rect>"
            svg += "<text class=\"tick\" x=\"\(x + slot * 3 / 8)\" y=\"\(upper + plot - barHeight - 4)\" text-anchor=\"middle\">\(PageFormat.count(bar.value))</text>"
            svg += "<text class=\"tick\" x=\"\(x + slot * 3 / 8)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(HTMLText.escape(bar.label))</text>"
        }
        return svg + "</svg>"
    }
}

