// SPDX-License-Identifier: Apache-2.0
#include "metrics/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "metrics/text_format.hpp"

namespace scepra::metrics {

namespace {

/// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, without ':' for label names.
bool valid_name(const std::string& name, bool allow_colon) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [allow_colon](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               (allow_colon && c == ':');
    });
}

}  // namespace

Family::Family(std::string name, std::string help, std::vector<std::string> label_names)
    : m_name(std::move(name)), m_help(std::move(help)), m_label_names(std::move(label_names)) {
    if (!valid_name(m_name, true)) {
        throw std::invalid_argument("invalid metric name '" + m_name + "'");
    }
    for (const auto& label : m_label_names) {
        if (!valid_name(label, false) || label.starts_with("__") || label == "le") {
            throw std::invalid_argument("invalid label name '" + label + "' for " + m_name);
        }
    }
}

void Family::render(std::string& out) const {
    out += "# HELP " + m_name + " " + escape_help(m_help) + "\n";
    out += "# TYPE " + m_name + " " + type() + "\n";
    render_samples(out);
}

LabelValues Family::key_for(const LabelValues& values, std::size_t series_now) const {
    if (values.size() != m_label_names.size()) {
        throw std::invalid_argument(m_name + " takes " + std::to_string(m_label_names.size()) +
                                    " label values");
    }
    if (series_now >= max_series_per_family) {
        return LabelValues(values.size(), "overflow");
    }
    return values;
}

std::string Family::labels(const LabelValues& values, std::string_view extra_name,
                           std::string_view extra_value) const {
    return format_labels(m_label_names, values, extra_name, extra_value);
}

void Counter::add(const LabelValues& values, double by) {
    std::lock_guard lock(m_mutex);
    auto it = m_values.find(values);
    if (it == m_values.end()) {
        it = m_values.try_emplace(key_for(values, m_values.size()), 0.0).first;
    }
    it->second += by;
}

double Counter::value(const LabelValues& values) const {
    std::lock_guard lock(m_mutex);
    auto it = m_values.find(values);
    return it == m_values.end() ? 0.0 : it->second;
}

void Counter::render_samples(std::string& out) const {
    std::lock_guard lock(m_mutex);
    for (const auto& [values, value] : m_values) {
        out += m_name + labels(values) + " " + format_value(value) + "\n";
    }
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : Family(std::move(name), std::move(help), std::move(label_names)), m_bounds(std::move(bounds)) {
    if (!std::is_sorted(m_bounds.begin(), m_bounds.end()) ||
        std::adjacent_find(m_bounds.begin(), m_bounds.end()) != m_bounds.end()) {
        throw std::invalid_argument(m_name + ": bucket bounds must increase");
    }
}

void Histogram::observe(const LabelValues& values, double value) {
    std::lock_guard lock(m_mutex);
    auto it = m_series.find(values);
    if (it == m_series.end()) {
        it = m_series.try_emplace(key_for(values, m_series.size())).first;
        it->second.buckets.assign(m_bounds.size(), 0);
    }
    Series& s = it->second;
    const auto bucket = std::lower_bound(m_bounds.begin(), m_bounds.end(), value);  // le: value <= bound
    if (bucket != m_bounds.end()) {
        ++s.buckets[static_cast<std::size_t>(bucket - m_bounds.begin())];
    }
    ++s.count;
    s.sum += value;
}

std::uint64_t Histogram::count(const LabelValues& values) const {
    std::lock_guard lock(m_mutex);
    auto it = m_series.find(values);
    return it == m_series.end() ? 0 : it->second.count;
}

void Histogram::render_samples(std::string& out) const {
    std::lock_guard lock(m_mutex);
    for (const auto& [values, s] : m_series) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < m_bounds.size(); ++i) {
            cumulative += s.buckets[i];
            out += m_name + "_bucket" + labels(values, "le", format_value(m_bounds[i])) + " " +
                   std::to_string(cumulative) + "\n";
        }
        out += m_name + "_bucket" + labels(values, "le", "+Inf") + " " + std::to_string(s.count) + "\n";
        out += m_name + "_sum" + labels(values) + " " + format_value(s.sum) + "\n";
        out += m_name + "_count" + labels(values) + " " + std::to_string(s.count) + "\n";
    }
}

Gauge::Gauge(std::string name, std::string help, std::vector<std::string> label_names, Sampler sampler)
    : Family(std::move(name), std::move(help), std::move(label_names)), m_sampler(std::move(sampler)) {}

void Gauge::render_samples(std::string& out) const {
    Samples samples;
    try {
        samples = m_sampler();
    } catch (const std::exception&) {
        return;
    }
    std::size_t shown = 0;
    for (const auto& [values, value] : samples) {
        if (values.size() != m_label_names.size() || shown++ >= max_series_per_family) {
            continue;
        }
        out += m_name + labels(values) + " " + format_value(value) + "\n";
    }
}

template <class F>
F& Registry::add(std::unique_ptr<F> family) {
    std::lock_guard lock(m_mutex);
    for (const auto& existing : m_families) {
        if (existing->name() == family->name()) {
            throw std::invalid_argument("metric " + family->name() + " registered twice");
        }
    }
    F& ref = *family;
    m_families.push_back(std::move(family));
    return ref;
}

Counter& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
    return add(std::make_unique<Counter>(std::move(name), std::move(help), std::move(label_names)));
}

Histogram& Registry::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                               std::vector<double> bounds) {
    return add(std::make_unique<Histogram>(std::move(name), std::move(help), std::move(label_names),
                                           std::move(bounds)));
}

void Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names,
                     Gauge::Sampler sampler) {
    add(std::make_unique<Gauge>(std::move(name), std::move(help), std::move(label_names),
                                std::move(sampler)));
}

std::string Registry::render() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    for (const auto& family : m_families) {
        family->render(out);
    }
    return out;
}

}  // namespace scepra::metrics
