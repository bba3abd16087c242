// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"
#include "config/config_section.h"

#include "util/atomic_file.h"
#include "util/error_text.h"
#include "util/json_read.h"
#include "util/limits.h"
#include "util/paths.h"
#include "util/strings.h"

#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>

namespace nectar {

using nlohmann::json;

namespace {

using namespace config_detail;

// ---- one field table per section ----
// fields(v, section) names each key of a section once, with its range rule; the Reader, the Writer and the
// Validator below all walk it, so a key is never spelled twice. Cross-field rules are in validate_config.

// Every integer has an upper bound (config/config.h, "Limits"), so no count, size or epoch can overflow
// the arithmetic done with it or ask for more memory than a machine has.
struct Rule {
    enum Kind { Any, Range, Weight, Finite, LearningRate, Beta1, Device, Port, FolderName, Path } kind = Any;
    std::int64_t lo = 0;
    std::int64_t hi = std::numeric_limits<int>::max();
};
constexpr Rule any_value {};
constexpr Rule in_range(std::int64_t lo, std::int64_t hi)
{
    return { Rule::Range, lo, hi };
}
constexpr Rule at_least(std::int64_t lo)
{
    return { Rule::Range, lo, std::numeric_limits<int>::max() };
}
constexpr Rule loss_weight { Rule::Weight };
constexpr Rule finite_number { Rule::Finite };
constexpr Rule learning_rate { Rule::LearningRate };
constexpr Rule beta1_range { Rule::Beta1 };
constexpr Rule device_name { Rule::Device };
constexpr Rule port_number { Rule::Port };
constexpr Rule folder_name { Rule::FolderName };
constexpr Rule file_path { Rule::Path };

template <class V> void fields(V& v, CommonConfig& c)
{
    v.field("device", c.device, device_name);
    v.field("gpu_ids", c.gpu_ids, in_range(0, limits::max_gpu_id));
    v.field("output_directory", c.output_directory, file_path);
    v.field("experiment_name", c.experiment_name, folder_name);
    v.field("experiment_version", c.experiment_version, in_range(0, limits::max_experiment_version));
    v.field("num_threads", c.num_threads, in_range(0, limits::max_threads));
    v.field("seed", c.seed);
}

template <class V> void fields(V& v, LoadConfig& c)
{
    v.field("input_nc", c.input_nc, in_range(1, 3));
    v.field("load_size", c.load_size, in_range(1, limits::max_image_size));
    v.field("crop_size", c.crop_size, in_range(1, limits::max_image_size));
}

template <class V> void fields(V& v, AugmentationsConfig& c)
{
    v.field("both", c.both);
    v.field("input", c.input);
    v.field("target", c.target);
}

template <class V> void fields(V& v, DataloaderConfig& c)
{
    v.field("dataroot", c.dataroot, file_path);
    v.field("direction", c.direction);
    v.field("batch_size", c.batch_size, in_range(1, limits::max_batch_size));
    v.field("num_workers", c.num_workers, in_range(0, limits::max_workers));
    v.section("load", c.load);
    v.section("augmentations", c.augmentations);
}

template <class V> void fields(V& v, LearningRateConfig& c)
{
    v.field("epochs", c.epochs, in_range(0, limits::max_epochs));
    v.field("epochs_decay", c.epochs_decay, in_range(0, limits::max_epochs));
    v.field("initial", c.initial, learning_rate);
    v.field("target", c.target, learning_rate);
}

template <class V> void fields(V& v, OptimizerConfig& c)
{
    v.field("beta1", c.beta1, beta1_range);
}

template <class V> void fields(V& v, GeneratorConfig& c)
{
    v.field("features", c.features, in_range(1, limits::max_features));
    v.field("n_downs", c.n_downs, in_range(1, limits::max_n_downs));
    v.field("block_type", c.block_type);
    v.field("upsample_type", c.upsample_type);
    v.field("use_dropout_layers", c.use_dropout_layers, in_range(0, limits::max_n_downs));
    v.section("learning_rate", c.learning_rate);
    v.section("optimizer", c.optimizer);
}

template <class V> void fields(V& v, DiscriminatorConfig& c)
{
    v.field("n_layers", c.n_layers, in_range(1, limits::max_n_layers));
    v.field("base_channels", c.base_channels, in_range(1, limits::max_features));
    v.field("max_channels", c.max_channels, in_range(1, limits::max_channels));
    v.section("learning_rate", c.learning_rate);
    v.section("optimizer", c.optimizer);
}

template <class V> void fields(V& v, TrainLoadConfig& c)
{
    v.field("continue_train", c.continue_train);
    v.field("load_epoch", c.load_epoch, in_range(0, 2 * limits::max_epochs));
}

template <class V> void fields(V& v, LossConfig& c)
{
    v.field("lambda_gan", c.lambda_gan, loss_weight);
    v.field("lambda_l1", c.lambda_l1, loss_weight);
    v.field("lambda_l2", c.lambda_l2, loss_weight);
    v.field("lambda_sobel", c.lambda_sobel, loss_weight);
    v.field("lambda_laplacian", c.lambda_laplacian, loss_weight);
    v.field("lambda_vgg", c.lambda_vgg, loss_weight);
    v.field("spec", c.spec);
    v.field("subspec", c.subspec);
    v.field("vgg_weights", c.vgg_weights, file_path);
    v.extra_weights(c.extra);
}

template <class V> void fields(V& v, TrainConfig& c)
{
    v.field("separate_lr_schedules", c.separate_lr_schedules);
    v.section("load", c.load);
    v.section("generator", c.generator);
    v.section("discriminator", c.discriminator);
    v.section("loss", c.loss);
    v.field("nonfinite_policy", c.nonfinite_policy);
    v.field("log_dump_rate", c.log_dump_rate, at_least(1));
    v.field("update_rate", c.update_rate, at_least(1));
    v.field("history_buffer_size", c.history_buffer_size, at_least(1));
}

template <class V> void fields(V& v, SaveConfig& c)
{
    v.field("save_model", c.save_model);
    v.field("model_save_rate", c.model_save_rate, at_least(1));
    v.field("auto_increment_version", c.auto_increment_version);
    v.field("save_examples", c.save_examples);
    v.field("example_save_rate", c.example_save_rate, at_least(1));
    v.field("num_examples", c.num_examples, in_range(0, limits::max_examples));
}

template <class V> void fields(V& v, VisdomConfig& c)
{
    v.field("enable", c.enable);
    v.field("env_name", c.env_name);
    v.field("server", c.server);
    v.field("port", c.port, port_number);
    v.field("image_size", c.image_size, in_range(1, limits::max_image_size));
    v.field("update_frequency", c.update_frequency, at_least(1));
}

template <class V> void fields(V& v, VisualizerConfig& c)
{
    v.section("visdom", c.visdom);
}

/// The sections of {"config": ...}.
template <class V> void fields(V& v, Config& c)
{
    v.section("common", c.common);
    v.section("dataloader", c.dataloader);
    v.section("train", c.train);
    v.section("save", c.save);
    v.section("visualizer", c.visualizer);
}

// ---- Reader: JSON -> struct (types checked here, ranges by the Validator) ----
class Reader {
public:
    explicit Reader(Section& s)
        : m_s(s)
    {
    }
    template <class T> void field(const std::string& key, T& out, Rule r = any_value)
    {
        if constexpr (std::is_enum_v<T>) {
            m_s.get_choice(key, out);
        } else if constexpr (std::is_same_v<T, json>) {
            m_s.get_object(key, out);
        } else {
            m_s.get(key, out);
            // JSON text is UTF-8; a path that is not was written as display_path() (see the Writer).
            if constexpr (std::is_same_v<T, std::string>)
                if (r.kind == Rule::Path || r.kind == Rule::FolderName)
                    out = path_from_display(out);
        }
    }
    template <class T> void section(const std::string& key, T& out)
    {
        if (const json* v = m_s.take(key)) {
            Section child(*v, m_s.path_of(key), m_s.context());
            Reader r(child);
            fields(r, out);
            child.finish();
        }
    }
    /// Unknown numeric keys of train.loss are weights for JSON specs ("train.loss.lambda_foo").
    void extra_weights(std::map<std::string, double>& extra)
    {
        extra.clear();
        for (const std::string& key : m_s.rest()) {
            const json* v = m_s.take(key);
            if (!v->is_number()) {
                m_s.keep_unknown(key);
                continue;
            }
            extra[key] = v->get<double>();
            ParseContext& ctx = m_s.context();
            if (key.rfind("lambda_", 0) != 0)
                ctx.warn(m_s.path_of(key),
                    "not a known key; kept as an extra loss weight (train.loss."
                        + detail::printable(detail::bounded_text(key)) + ")");
        }
    }

private:
    Section& m_s;
};

// ---- Writer: struct -> JSON (every field) ----
class Writer {
public:
    json out = json::object();
    template <class T> void field(const std::string& key, const T& value, Rule r = any_value)
    {
        if constexpr (std::is_enum_v<T>)
            out[key] = choice_name(value);
        else if constexpr (std::is_same_v<T, std::string>)
            // File names are bytes; JSON holds UTF-8 only: other bytes are written as \xNN and read back.
            out[key] = r.kind == Rule::Path || r.kind == Rule::FolderName ? display_path(value) : value;
        else
            out[key] = value;
    }
    template <class T> void section(const std::string& key, const T& value) { out[key] = value; }
    void extra_weights(const std::map<std::string, double>& extra)
    {
        // A (programmatic) extra named like a known key never overrides it: known keys win.
        for (const auto& [key, value] : extra)
            if (!out.contains(key))
                out[key] = value;
    }
};

template <class T> json write_section(const T& c)
{
    Writer w;
    fields(w, const_cast<T&>(c)); // the Writer only reads: one table serves both directions
    return std::move(w.out);
}

// ---- Validator: the range rules of the table, reported at the JSON path ----
class Validator {
public:
    Validator(const std::string& source, std::string path)
        : m_source(source)
        , m_path(std::move(path))
    {
    }
    [[noreturn]] void fail(const std::string& path, const std::string& problem, const std::string& got) const
    {
        throw ConfigError(located(m_source, path, problem + " (got " + got + ")"));
    }
    /// Choices and bools need no check: their types hold only valid values.
    template <class T> void field(const std::string& key, const T& v, Rule r = any_value) const
    {
        const std::string path = m_path + "/" + key;
        if constexpr (std::is_same_v<T, double>) {
            check(path, v, r);
        } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            check_int(path, static_cast<std::int64_t>(v), r);
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
            for (std::size_t i = 0; i < v.size(); ++i)
                check_int(path + "/" + std::to_string(i), v[i], r);
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (r.kind == Rule::FolderName && !valid_folder_name(v))
                fail(path,
                    "expected a folder name: not empty, no '/', '\\' or NUL, not \".\" or \"..\", at most 255 bytes",
                    json_text(json(v)));
            if (r.kind == Rule::Device && !valid_device(v))
                fail(path, "expected \"cpu\", \"cuda\", \"cuda:N\" or \"auto\"", json_text(json(v)));
            if ((r.kind == Rule::Path || r.kind == Rule::FolderName) && v.size() > limits::max_path_bytes)
                fail(path, "expected at most " + std::to_string(limits::max_path_bytes) + " bytes",
                    std::to_string(v.size()) + " bytes");
        } else if constexpr (std::is_same_v<T, json>) {
            if (!v.is_object())
                fail(path, "expected an object", json_text(v));
        }
    }
    template <class T> void section(const std::string& key, const T& value) const
    {
        Validator child(m_source, m_path + "/" + key);
        fields(child, const_cast<T&>(value)); // the Validator only reads
    }
    void extra_weights(const std::map<std::string, double>& extra) const
    {
        static const std::set<std::string> known { "lambda_gan", "lambda_l1", "lambda_l2", "lambda_sobel",
            "lambda_laplacian", "lambda_vgg", "spec", "subspec", "vgg_weights" };
        for (const auto& [key, value] : extra) {
            const std::string p = m_path + "/" + pointer_token(key);
            if (key.empty() || known.count(key))
                fail(p, "extra loss key must not be empty or repeat a known key", json_text(json(key)));
            check(p, value, key.rfind("lambda_", 0) == 0 ? loss_weight : finite_number);
        }
    }

    /// One path component on every platform we write to (the experiment folder is <name>_v<N>).
    static bool valid_folder_name(const std::string& n)
    {
        return !n.empty() && n.size() <= 255 && n != "." && n != ".."
            && n.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
    }
    static bool valid_device(const std::string& d)
    {
        if (d == "cpu" || d == "cuda" || d == "auto")
            return true;
        if (d.rfind("cuda:", 0) == 0 && d.size() > 5)
            return d.find_first_not_of("0123456789", 5) == std::string::npos;
        return false;
    }

private:
    void check(const std::string& path, double v, Rule r) const
    {
        // !(a <= v && v <= b) is also true for NaN.
        if (r.kind == Rule::Weight && !(v >= 0.0 && v <= limits::max_loss_weight))
            fail(path, "expected a loss weight in [0, 1e6]", number_text(v));
        if (r.kind == Rule::LearningRate && !(v >= 0.0 && v <= limits::max_learning_rate))
            fail(path, "expected a learning rate in [0, 1]", number_text(v));
        if (r.kind == Rule::Beta1 && (!std::isfinite(v) || v < 0.0 || v >= 1.0))
            fail(path, "expected a number in [0, 1)", number_text(v));
        if (r.kind == Rule::Finite && !(std::abs(v) <= limits::max_loss_weight))
            fail(path, "expected a finite number in [-1e6, 1e6]", number_text(v));
    }
    void check_int(const std::string& path, std::int64_t v, Rule r) const
    {
        if (r.kind == Rule::Range && (v < r.lo || v > r.hi))
            fail(path,
                r.hi == std::numeric_limits<int>::max()
                    ? "expected an integer >= " + std::to_string(r.lo)
                    : "expected an integer in [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]",
                std::to_string(v));
        if (r.kind == Rule::Port && (v < 0 || v > 65535))
            fail(path, v < 0 ? "expected an integer >= 0" : "expected a port number <= 65535", std::to_string(v));
    }

    const std::string& m_source;
    std::string m_path;
};

// Standalone from_json: defaults for missing keys, unknown keys are errors (no place to keep them).
template <class T> void read_standalone(const json& j, T& out)
{
    ParseContext ctx;
    T value;
    Section s(j, "", ctx);
    Reader r(s);
    fields(r, value);
    s.finish();
    out = std::move(value);
}

json full_json(const Config& c)
{
    json j;
    j["config"] = write_section(c);
    for (auto it = c.unknown.begin(); it != c.unknown.end(); ++it)
        j[json::json_pointer(it.key())] = it.value();
    return j;
}

} // namespace

// ---- to_json / from_json per section: both through the field table ----
#define NECTAR_CONFIG_SECTION_JSON(T)                                                                                  \
    void to_json(json& j, const T& c)                                                                                  \
    {                                                                                                                  \
        j = write_section(c);                                                                                          \
    }                                                                                                                  \
    void from_json(const json& j, T& c)                                                                                \
    {                                                                                                                  \
        read_standalone(j, c);                                                                                         \
    }
NECTAR_CONFIG_SECTION_JSON(CommonConfig)
NECTAR_CONFIG_SECTION_JSON(LoadConfig)
NECTAR_CONFIG_SECTION_JSON(AugmentationsConfig)
NECTAR_CONFIG_SECTION_JSON(DataloaderConfig)
NECTAR_CONFIG_SECTION_JSON(LearningRateConfig)
NECTAR_CONFIG_SECTION_JSON(OptimizerConfig)
NECTAR_CONFIG_SECTION_JSON(GeneratorConfig)
NECTAR_CONFIG_SECTION_JSON(DiscriminatorConfig)
NECTAR_CONFIG_SECTION_JSON(TrainLoadConfig)
NECTAR_CONFIG_SECTION_JSON(LossConfig)
NECTAR_CONFIG_SECTION_JSON(TrainConfig)
NECTAR_CONFIG_SECTION_JSON(SaveConfig)
NECTAR_CONFIG_SECTION_JSON(VisdomConfig)
NECTAR_CONFIG_SECTION_JSON(VisualizerConfig)
#undef NECTAR_CONFIG_SECTION_JSON

void to_json(json& j, const Config& c)
{
    j = config_to_json(c, ExtensionKeys::Always);
}
void from_json(const json& j, Config& c)
{
    c = config_from_json(j);
}

// ---- whole config ----

const std::vector<std::string>& config_extension_keys()
{
    static const std::vector<std::string> keys { "/config/common/num_threads", "/config/common/seed",
        "/config/train/loss/spec", "/config/train/loss/subspec", "/config/train/loss/vgg_weights",
        "/config/train/nonfinite_policy", "/config/train/log_dump_rate", "/config/train/update_rate",
        "/config/train/history_buffer_size", "/config/train/generator/use_dropout_layers" };
    return keys;
}

json config_to_json(const Config& c, ExtensionKeys ext)
{
    json j = full_json(c);
    if (ext == ExtensionKeys::NonDefault) {
        static const json defaults = full_json(Config {});
        for (const std::string& key : config_extension_keys()) {
            const json::json_pointer ptr(key);
            // An unknown key can never sit at an extension path, so erasing only drops our default.
            if (j.at(ptr) == defaults.at(ptr))
                j.at(ptr.parent_pointer()).erase(ptr.back());
        }
    }
    return j;
}

Config config_from_json(const json& j, std::vector<std::string>* warnings, const std::string& source)
{
    Config c;
    ParseContext ctx { source, &c.unknown, warnings };
    Section root(j, "", ctx);
    const json* cfg = root.take("config");
    if (!cfg)
        root.fail("/config", "missing: expected NectarGAN's layout {\"config\": {\"common\": ..., \"train\": ...}}");
    Section s(*cfg, "/config", ctx);
    Reader r(s);
    fields(r, c);
    s.finish();
    root.finish();
    ctx.finish_warnings();
    validate_config(c, source);
    return c;
}

void validate_config(const Config& c, const std::string& source)
{
    // Every field's own rule (field table), then the rules that relate several fields.
    const Validator v(source, "/config");
    fields(v, const_cast<Config&>(c)); // the Validator only reads
    const auto& load = c.dataloader.load;
    if (load.crop_size > load.load_size)
        v.fail("/config/dataloader/load/crop_size",
            "crop_size must be <= load_size (" + std::to_string(load.load_size) + ")", std::to_string(load.crop_size));
    // One batch tensor must stay addressable (and allocatable): 64-bit products, checked before any use.
    const std::int64_t batch_values
        = static_cast<std::int64_t>(c.dataloader.batch_size) * load.input_nc * load.crop_size * load.crop_size;
    if (batch_values > limits::max_batch_values)
        v.fail("/config/dataloader/batch_size",
            "batch_size x input_nc x crop_size^2 must be at most " + std::to_string(limits::max_batch_values)
                + " values (" + std::to_string(load.input_nc) + " x " + std::to_string(load.crop_size)
                + "^2 per image)",
            std::to_string(c.dataloader.batch_size));
    for (const auto& [p, lr] : { std::pair<const char*, const LearningRateConfig*> {
                                     "/config/train/generator/learning_rate/epochs", &c.train.generator.learning_rate },
             { "/config/train/discriminator/learning_rate/epochs", &c.train.discriminator.learning_rate } })
        if (lr->epochs == 0 && lr->epochs_decay == 0)
            v.fail(p, "epochs and epochs_decay are both 0: nothing to train", "0 and 0");
    if (c.train.loss.spec.empty())
        v.fail("/config/train/loss/spec", "expected a spec name", "\"\"");
    if (!c.unknown.is_object())
        throw ConfigError(located(source, "/", "Config::unknown must be a JSON object of pointer -> value"));
}

Config config_from_text(std::string_view text, const std::string& source, std::vector<std::string>* warnings)
{
    return reading_as<ConfigError>(source,
        [&] { return config_from_json(parse_json_text<json>(text, source, json_limits::config()), warnings, source); });
}

Config load_config_file(const std::string& path, std::vector<std::string>* warnings)
{
    const std::string text
        = reading_as<ConfigError>(path, [&] { return read_file_text(path, json_limits::config(), path); });
    return config_from_text(text, path, warnings);
}

void save_config_file(const Config& c, const std::string& path, ExtensionKeys ext)
{
    write_file_atomically(path, config_to_json(c, ext).dump(4) + "\n", "config file");
}

double Config::number(const std::string& dotted_key) const
{
    std::string key = dotted_key;
    if (key.rfind("config.", 0) == 0)
        key = key.substr(7);
    if (key.empty())
        throw std::invalid_argument("config key is empty (expected e.g. \"train.loss.lambda_l1\")");
    const json j = config_to_json(*this, ExtensionKeys::Always);
    const json* node = &j.at("config");
    std::size_t pos = 0;
    while (true) {
        const std::size_t dot = key.find('.', pos);
        const std::string part = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        if (!node->is_object() || !node->contains(part))
            throw std::invalid_argument(
                "config key \"" + dotted_key + "\" not found (no \"" + part + "\"; e.g. \"train.loss.lambda_l1\")");
        node = &node->at(part);
        if (dot == std::string::npos)
            break;
        pos = dot + 1;
    }
    if (!node->is_number())
        throw std::invalid_argument(
            "config key \"" + dotted_key + "\" is not a number (value " + json_text(*node) + ")");
    return node->get<double>();
}

} // namespace nectar
