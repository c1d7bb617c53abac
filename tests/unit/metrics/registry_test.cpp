// SPDX-License-Identifier: Apache-2.0
// The metric registry's text output, read back by Debian's Prometheus parser.
#include "metrics/registry.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "metrics/scep_metrics.hpp"
#include "metrics/text_format.hpp"
#include "support/prometheus_text.hpp"

using namespace scepra;
using namespace scepra::metrics;
using scepra::test::parse_prometheus_text;
using scepra::test::TempDir;

TEST_SUITE("metrics.registry") {
    TEST_CASE("label values with quotes, backslashes and line feeds survive a real parser unchanged") {
        Registry registry;
        Counter& counter =
            registry.counter("test_events_total", "Events with a \\ and a\nline feed", {"subject"});
        const std::string hostile = "CN=a \"quoted\" \\ name\nsecond line";
        counter.add({hostile}, 3);
        counter.add({"plain"});
        TempDir dir;
        auto parsed = parse_prometheus_text(dir, registry.render());
        CHECK(parsed.types.at("test_events") == "counter");
        CHECK(parsed.get("test_events_total{subject=\"" + escape_label_value(hostile) + "\"}") == 3);
        CHECK(parsed.get("test_events_total{subject=\"plain\"}") == 1);
    }

    TEST_CASE("a histogram renders cumulative buckets, +Inf, sum and count that the parser accepts") {
        Registry registry;
        Histogram& h = registry.histogram("test_duration_seconds", "Durations", {"kind"}, {0.1, 1, 10});
        for (double v : {0.05, 0.1, 0.5, 2.0, 100.0}) h.observe({"a"}, v);
        TempDir dir;
        auto parsed = parse_prometheus_text(dir, registry.render());
        CHECK(parsed.types.at("test_duration_seconds") == "histogram");
        CHECK(parsed.get("test_duration_seconds_bucket{kind=\"a\",le=\"0.1\"}") == 2);  // le is inclusive
        CHECK(parsed.get("test_duration_seconds_bucket{kind=\"a\",le=\"1\"}") == 3);
        CHECK(parsed.get("test_duration_seconds_bucket{kind=\"a\",le=\"10\"}") == 4);
        CHECK(parsed.get("test_duration_seconds_bucket{kind=\"a\",le=\"+Inf\"}") == 5);
        CHECK(parsed.get("test_duration_seconds_count{kind=\"a\"}") == 5);
        CHECK(parsed.get("test_duration_seconds_sum{kind=\"a\"}") == doctest::Approx(102.65));
    }

    TEST_CASE("gauges are sampled at each rendering, and a failing sampler leaves its family empty") {
        Registry registry;
        int calls = 0;
        registry.gauge("test_level", "A level", {}, [&calls] {
            return Gauge::Samples{{{}, double(++calls)}};
        });
        registry.gauge("test_broken", "Its source fails", {"x"},
                       []() -> Gauge::Samples { throw std::runtime_error("database is locked"); });
        TempDir dir;
        CHECK(parse_prometheus_text(dir, registry.render()).get("test_level{}") == 1);
        auto parsed = parse_prometheus_text(dir, registry.render());
        CHECK(parsed.get("test_level{}") == 2);
        CHECK(parsed.types.at("test_broken") == "gauge");
    }

    TEST_CASE("a family holds a bounded number of series whatever label values arrive") {
        Registry registry;
        Counter& counter = registry.counter("test_flood_total", "Flooded", {"v"});
        for (size_t i = 0; i < max_series_per_family + 50; ++i) counter.add({"value-" + std::to_string(i)});
        CHECK(counter.value({"overflow"}) == 50);
        const std::string text = registry.render();
        CHECK(std::count(text.begin(), text.end(), '\n') == static_cast<long>(max_series_per_family + 1 + 2));
    }

    TEST_CASE("counters and histograms updated from many threads lose no increment") {
        Registry registry;
        Counter& counter = registry.counter("test_parallel_total", "Parallel", {"t"});
        Histogram& h = registry.histogram("test_parallel_seconds", "Parallel", {}, {1});
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 5000; ++i) {
                    counter.add({"same"});
                    h.observe({}, 0.5);
                }
            });
        }
        for (auto& t : threads) t.join();
        CHECK(counter.value({"same"}) == 20000);
        CHECK(h.count({}) == 20000);
    }

    TEST_CASE("malformed metric and label names and repeated families are refused") {
        Registry registry;
        CHECK_THROWS_AS(registry.counter("1bad", "x"), std::invalid_argument);
        CHECK_THROWS_AS(registry.counter("ok_total", "x", {"le"}), std::invalid_argument);
        CHECK_THROWS_AS(registry.counter("ok_total", "x", {"has-dash"}), std::invalid_argument);
        registry.counter("ok_total", "x");
        CHECK_THROWS_AS(registry.counter("ok_total", "x"), std::invalid_argument);
        Counter& labelled = registry.counter("two_total", "x", {"a", "b"});
        CHECK_THROWS_AS(labelled.add({"only-one"}), std::invalid_argument);
    }

    TEST_CASE("sample values: integers, fractions and infinities in the format's spelling") {
        CHECK(format_value(3) == "3");
        CHECK(format_value(0.25) == "0.25");
        CHECK(format_value(1.0 / 0.0) == "+Inf");
        CHECK(format_value(-1.0 / 0.0) == "-Inf");
    }
}

TEST_SUITE("metrics.labels") {
    TEST_CASE("client-chosen operations, message types and failInfos become one of a fixed set of labels") {
        CHECK(operation_label("PKIOperation") == "PKIOperation");
        CHECK(operation_label("") == "none");
        CHECK(operation_label("GetCACert\"}\nevil_total 1") == "other");
        CHECK(message_type_label("PKCSReq") == "PKCSReq");
        CHECK(message_type_label("99") == "other");
        CHECK(fail_info_label("badCertId") == "badCertId");
        CHECK(fail_info_label("whatever") == "other");
    }
}
