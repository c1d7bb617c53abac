// SPDX-License-Identifier: Apache-2.0
// A small thread-safe metric registry rendered in the Prometheus text format:
// counters and histograms updated by the request path, gauges sampled when
// /metrics is scraped.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace scepra::metrics {

/// Label values, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

/// Series beyond this many in one family are counted under labels that all say
/// "overflow": a bound on memory whatever values reach a family.
inline constexpr std::size_t max_series_per_family = 1000;

class Family {
  public:
    Family(std::string name, std::string help, std::vector<std::string> label_names);
    virtual ~Family() = default;
    Family(const Family&) = delete;
    Family& operator=(const Family&) = delete;

    const std::string& name() const { return m_name; }
    /// HELP, TYPE and every sample of this family.
    void render(std::string& out) const;

  protected:
    virtual const char* type() const = 0;
    virtual void render_samples(std::string& out) const = 0;
    /// The key a sample is stored under: these values, or the overflow key
    /// when the family is full. Throws std::invalid_argument on a wrong count.
    LabelValues key_for(const LabelValues& values, std::size_t series_now) const;
    std::string labels(const LabelValues& values, std::string_view extra_name = {},
                       std::string_view extra_value = {}) const;

    std::string m_name;
    std::string m_help;
    std::vector<std::string> m_label_names;
};

class Counter final : public Family {
  public:
    using Family::Family;
    void add(const LabelValues& values, double by = 1);
    /// The current value of one series (0 when it never counted).
    double value(const LabelValues& values) const;

  private:
    const char* type() const override { return "counter"; }
    void render_samples(std::string& out) const override;

    mutable std::mutex m_mutex;
    std::map<LabelValues, double> m_values;
};

class Histogram final : public Family {
  public:
    /// bounds: the upper bounds of the buckets, increasing (+Inf is implied).
    Histogram(std::string name, std::string help, std::vector<std::string> label_names,
              std::vector<double> bounds);
    void observe(const LabelValues& values, double value);
    /// Observations of one series so far.
    std::uint64_t count(const LabelValues& values) const;

  private:
    struct Series {
        std::vector<std::uint64_t> buckets;  ///< per bound, not cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    const char* type() const override { return "histogram"; }
    void render_samples(std::string& out) const override;

    std::vector<double> m_bounds;
    mutable std::mutex m_mutex;
    std::map<LabelValues, Series> m_series;
};

/// A gauge whose samples are read when the registry is rendered.
class Gauge final : public Family {
  public:
    using Samples = std::vector<std::pair<LabelValues, double>>;
    using Sampler = std::function<Samples()>;
    Gauge(std::string name, std::string help, std::vector<std::string> label_names, Sampler sampler);

  private:
    const char* type() const override { return "gauge"; }
    /// A sampler that throws (the database is busy or broken) leaves the
    /// family without samples for this scrape.
    void render_samples(std::string& out) const override;

    Sampler m_sampler;
};

class Registry {
  public:
    /// Each family name once; throws std::invalid_argument for a repeated or malformed name.
    Counter& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
    Histogram& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                         std::vector<double> bounds);
    void gauge(std::string name, std::string help, std::vector<std::string> label_names,
               Gauge::Sampler sampler);

    /// Every family in the order added, in the text exposition format.
    std::string render() const;

  private:
    template <class F>
    F& add(std::unique_ptr<F> family);

    mutable std::mutex m_mutex;
    std::vector<std::unique_ptr<Family>> m_families;
};

}  // namespace scepra::metrics
