// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"
#include "util/atomic_file.h"
#include "util/error_text.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace nectar {

using nlohmann::json;

namespace {

using detail::json_text;
using detail::located;
using detail::number_text;

// RFC 6901 escaping, so that keys containing '/' or '~' still give valid pointers.
std::string pointer_token(const std::string& key)
{
    std::string out;
    for (char ch : key) {
        if (ch == '~')
            out += "~0";
        else if (ch == '/')
            out += "~1";
        else
            out += ch;
    }
    return out;
}

std::string type_name(const json& v)
{
    if (v.is_number_integer())
        return "integer";
    if (v.is_number_float())
        return "number";
    return v.type_name();
}

// Where the unknown keys of a parse go. Without a sink (standalone from_json) an unknown key is an error.
struct ParseContext {
    std::string source;
    json* unknown = nullptr;
    std::vector<std::string>* warnings = nullptr;
};

class Section {
public:
    Section(const json& j, std::string path, ParseContext& ctx)
        : m_j(j)
        , m_path(std::move(path))
        , m_ctx(ctx)
    {
        if (!j.is_object())
            fail(m_path, "expected an object, got " + type_name(j) + " " + json_text(j));
    }

    [[noreturn]] void fail(const std::string& path, const std::string& msg) const
    {
        throw ConfigError(located(m_ctx.source, path, msg));
    }

    std::string path_of(const std::string& key) const { return m_path + "/" + pointer_token(key); }

    const json* take(const std::string& key)
    {
        auto it = m_j.find(key);
        if (it == m_j.end())
            return nullptr;
        m_seen.insert(key);
        return &*it;
    }

    void get(const std::string& key, std::string& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_string())
                fail(path_of(key), "expected a string, got " + type_name(*v) + " " + json_text(*v));
            out = v->get<std::string>();
        }
    }
    void get(const std::string& key, bool& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_boolean())
                fail(path_of(key), "expected true or false, got " + type_name(*v) + " " + json_text(*v));
            out = v->get<bool>();
        }
    }
    void get(const std::string& key, double& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_number())
                fail(path_of(key), "expected a number, got " + type_name(*v) + " " + json_text(*v));
            out = v->get<double>();
        }
    }
    void get(const std::string& key, std::int64_t& out)
    {
        if (const json* v = take(key))
            out = integer(
                *v, path_of(key), std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max());
    }
    void get(const std::string& key, int& out)
    {
        if (const json* v = take(key))
            out = static_cast<int>(
                integer(*v, path_of(key), std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
    }
    void get(const std::string& key, std::vector<int>& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_array())
                fail(path_of(key), "expected an array of integers, got " + type_name(*v) + " " + json_text(*v));
            std::vector<int> result;
            for (std::size_t i = 0; i < v->size(); ++i)
                result.push_back(static_cast<int>(integer((*v)[i], path_of(key) + "/" + std::to_string(i),
                    std::numeric_limits<int>::min(), std::numeric_limits<int>::max())));
            out = std::move(result);
        }
    }
    /// A free-form JSON object kept as is (augmentations).
    void get_object(const std::string& key, json& out)
    {
        if (const json* v = take(key)) {
            if (!v->is_object())
                fail(path_of(key), "expected an object, got " + type_name(*v) + " " + json_text(*v));
            out = *v;
        }
    }

    template <class T> void sub(const std::string& key, T& out);

    /// Keys not read so far, in key order.
    std::vector<std::string> rest() const
    {
        std::vector<std::string> keys;
        for (auto it = m_j.begin(); it != m_j.end(); ++it)
            if (!m_seen.count(it.key()))
                keys.push_back(it.key());
        return keys;
    }

    void keep_unknown(const std::string& key)
    {
        const json* v = take(key);
        const std::string path = path_of(key);
        if (!m_ctx.unknown)
            fail(path, "unknown key (value " + json_text(*v) + ")");
        (*m_ctx.unknown)[path] = *v;
        if (m_ctx.warnings)
            m_ctx.warnings->push_back(located(m_ctx.source, path, "unknown key, kept and written back unchanged"));
    }

    void finish()
    {
        for (const std::string& key : rest())
            keep_unknown(key);
    }

    ParseContext& context() { return m_ctx; }
    const std::string& path() const { return m_path; }

private:
    std::int64_t integer(const json& v, const std::string& path, std::int64_t lo, std::int64_t hi) const
    {
        if (v.is_number_integer()) {
            if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
                fail(path, "integer out of range (got " + json_text(v) + ")");
            const std::int64_t i = v.get<std::int64_t>();
            if (i < lo || i > hi)
                fail(path, "integer out of range (got " + json_text(v) + ")");
            return i;
        }
        if (v.is_number_float()) {
            // 2.0 is accepted as 2; 2.5 is not.
            const double d = v.get<double>();
            if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(lo) && d <= static_cast<double>(hi))
                return static_cast<std::int64_t>(d);
        }
        fail(path, "expected an integer, got " + type_name(v) + " " + json_text(v));
    }

    const json& m_j;
    std::string m_path;
    ParseContext& m_ctx;
    std::set<std::string> m_seen;
};

void read(Section& s, CommonConfig& c)
{
    s.get("device", c.device);
    s.get("gpu_ids", c.gpu_ids);
    s.get("output_directory", c.output_directory);
    s.get("experiment_name", c.experiment_name);
    s.get("experiment_version", c.experiment_version);
    s.get("num_threads", c.num_threads);
    s.get("seed", c.seed);
}

void read(Section& s, LoadConfig& c)
{
    s.get("input_nc", c.input_nc);
    s.get("load_size", c.load_size);
    s.get("crop_size", c.crop_size);
}

void read(Section& s, AugmentationsConfig& c)
{
    s.get_object("both", c.both);
    s.get_object("input", c.input);
    s.get_object("target", c.target);
}

void read(Section& s, DataloaderConfig& c)
{
    s.get("dataroot", c.dataroot);
    s.get("direction", c.direction);
    s.get("batch_size", c.batch_size);
    s.get("num_workers", c.num_workers);
    s.sub("load", c.load);
    s.sub("augmentations", c.augmentations);
}

void read(Section& s, LearningRateConfig& c)
{
    s.get("epochs", c.epochs);
    s.get("epochs_decay", c.epochs_decay);
    s.get("initial", c.initial);
    s.get("target", c.target);
}

void read(Section& s, OptimizerConfig& c)
{
    s.get("beta1", c.beta1);
}

void read(Section& s, GeneratorConfig& c)
{
    s.get("features", c.features);
    s.get("n_downs", c.n_downs);
    s.get("block_type", c.block_type);
    s.get("upsample_type", c.upsample_type);
    s.sub("learning_rate", c.learning_rate);
    s.sub("optimizer", c.optimizer);
}

void read(Section& s, DiscriminatorConfig& c)
{
    s.get("n_layers", c.n_layers);
    s.get("base_channels", c.base_channels);
    s.get("max_channels", c.max_channels);
    s.sub("learning_rate", c.learning_rate);
    s.sub("optimizer", c.optimizer);
}

void read(Section& s, TrainLoadConfig& c)
{
    s.get("continue_train", c.continue_train);
    s.get("load_epoch", c.load_epoch);
}

void read(Section& s, LossConfig& c)
{
    s.get("lambda_gan", c.lambda_gan);
    s.get("lambda_l1", c.lambda_l1);
    s.get("lambda_l2", c.lambda_l2);
    s.get("lambda_sobel", c.lambda_sobel);
    s.get("lambda_laplacian", c.lambda_laplacian);
    s.get("lambda_vgg", c.lambda_vgg);
    s.get("spec", c.spec);
    s.get("subspec", c.subspec);
    s.get("vgg_weights", c.vgg_weights);
    c.extra.clear();
    for (const std::string& key : s.rest()) {
        const json* v = s.take(key);
        if (!v->is_number()) {
            s.keep_unknown(key);
            continue;
        }
        // Extra numeric keys are weights for JSON specs ("train.loss.lambda_foo").
        c.extra[key] = v->get<double>();
        ParseContext& ctx = s.context();
        if (ctx.warnings && key.rfind("lambda_", 0) != 0)
            ctx.warnings->push_back(located(
                ctx.source, s.path_of(key), "not a known key; kept as an extra loss weight (train.loss." + key + ")"));
    }
}

void read(Section& s, TrainConfig& c)
{
    s.get("separate_lr_schedules", c.separate_lr_schedules);
    s.sub("load", c.load);
    s.sub("generator", c.generator);
    s.sub("discriminator", c.discriminator);
    s.sub("loss", c.loss);
    s.get("nonfinite_policy", c.nonfinite_policy);
    s.get("log_dump_rate", c.log_dump_rate);
    s.get("update_rate", c.update_rate);
    s.get("history_buffer_size", c.history_buffer_size);
}

void read(Section& s, SaveConfig& c)
{
    s.get("save_model", c.save_model);
    s.get("model_save_rate", c.model_save_rate);
    s.get("auto_increment_version", c.auto_increment_version);
    s.get("save_examples", c.save_examples);
    s.get("example_save_rate", c.example_save_rate);
    s.get("num_examples", c.num_examples);
}

void read(Section& s, VisdomConfig& c)
{
    s.get("enable", c.enable);
    s.get("env_name", c.env_name);
    s.get("server", c.server);
    s.get("port", c.port);
    s.get("image_size", c.image_size);
    s.get("update_frequency", c.update_frequency);
}

void read(Section& s, VisualizerConfig& c)
{
    s.sub("visdom", c.visdom);
}

template <class T> void Section::sub(const std::string& key, T& out)
{
    if (const json* v = take(key)) {
        Section child(*v, path_of(key), m_ctx);
        read(child, out);
        child.finish();
    }
}

// Standalone from_json: defaults for missing keys, unknown keys are errors (no place to keep them).
template <class T> void read_standalone(const json& j, T& out)
{
    ParseContext ctx;
    T value;
    Section s(j, "", ctx);
    read(s, value);
    s.finish();
    out = std::move(value);
}

json full_json(const Config& c)
{
    json cfg;
    cfg["common"] = c.common;
    cfg["dataloader"] = c.dataloader;
    cfg["train"] = c.train;
    cfg["save"] = c.save;
    cfg["visualizer"] = c.visualizer;
    json j;
    j["config"] = std::move(cfg);
    for (auto it = c.unknown.begin(); it != c.unknown.end(); ++it)
        j[json::json_pointer(it.key())] = it.value();
    return j;
}

// ---- validation ----

class Checker {
public:
    explicit Checker(const std::string& source)
        : m_source(source)
    {
    }

    [[noreturn]] void fail(const std::string& path, const std::string& problem, const std::string& got) const
    {
        throw ConfigError(located(m_source, path, problem + " (got " + got + ")"));
    }
    void non_negative(const std::string& path, double v) const
    {
        if (!std::isfinite(v) || v < 0.0)
            fail(path, "expected a finite number >= 0", number_text(v));
    }
    void finite(const std::string& path, double v) const
    {
        if (!std::isfinite(v))
            fail(path, "expected a finite number", number_text(v));
    }
    void at_least(const std::string& path, std::int64_t v, std::int64_t lo) const
    {
        if (v < lo)
            fail(path, "expected an integer >= " + std::to_string(lo), std::to_string(v));
    }
    void one_of(const std::string& path, const std::string& v, const std::vector<std::string>& valid) const
    {
        for (const auto& ok : valid)
            if (v == ok)
                return;
        std::string list;
        for (const auto& ok : valid)
            list += (list.empty() ? "" : ", ") + ("\"" + ok + "\"");
        fail(path, "expected one of " + list, json(v).dump());
    }

private:
    const std::string& m_source;
};

void check_lr(const Checker& ck, const std::string& p, const LearningRateConfig& lr)
{
    ck.at_least(p + "/epochs", lr.epochs, 0);
    ck.at_least(p + "/epochs_decay", lr.epochs_decay, 0);
    if (lr.epochs == 0 && lr.epochs_decay == 0)
        ck.fail(p + "/epochs", "epochs and epochs_decay are both 0: nothing to train", "0 and 0");
    ck.non_negative(p + "/initial", lr.initial);
    ck.non_negative(p + "/target", lr.target);
}

void check_beta1(const Checker& ck, const std::string& p, double beta1)
{
    if (!std::isfinite(beta1) || beta1 < 0.0 || beta1 >= 1.0)
        ck.fail(p, "expected a number in [0, 1)", number_text(beta1));
}

bool valid_device(const std::string& d)
{
    if (d == "cpu" || d == "cuda" || d == "auto")
        return true;
    if (d.rfind("cuda:", 0) == 0 && d.size() > 5)
        return d.find_first_not_of("0123456789", 5) == std::string::npos;
    return false;
}

} // namespace

// ---- to_json / from_json per section ----

void to_json(json& j, const CommonConfig& c)
{
    j = json { { "device", c.device }, { "gpu_ids", c.gpu_ids }, { "output_directory", c.output_directory },
        { "experiment_name", c.experiment_name }, { "experiment_version", c.experiment_version },
        { "num_threads", c.num_threads }, { "seed", c.seed } };
}
void from_json(const json& j, CommonConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const LoadConfig& c)
{
    j = json { { "input_nc", c.input_nc }, { "load_size", c.load_size }, { "crop_size", c.crop_size } };
}
void from_json(const json& j, LoadConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const AugmentationsConfig& c)
{
    j = json { { "both", c.both }, { "input", c.input }, { "target", c.target } };
}
void from_json(const json& j, AugmentationsConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const DataloaderConfig& c)
{
    j = json { { "dataroot", c.dataroot }, { "direction", c.direction }, { "batch_size", c.batch_size },
        { "num_workers", c.num_workers }, { "load", c.load }, { "augmentations", c.augmentations } };
}
void from_json(const json& j, DataloaderConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const LearningRateConfig& c)
{
    j = json { { "epochs", c.epochs }, { "epochs_decay", c.epochs_decay }, { "initial", c.initial },
        { "target", c.target } };
}
void from_json(const json& j, LearningRateConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const OptimizerConfig& c)
{
    j = json { { "beta1", c.beta1 } };
}
void from_json(const json& j, OptimizerConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const GeneratorConfig& c)
{
    j = json { { "features", c.features }, { "n_downs", c.n_downs }, { "block_type", c.block_type },
        { "upsample_type", c.upsample_type }, { "learning_rate", c.learning_rate }, { "optimizer", c.optimizer } };
}
void from_json(const json& j, GeneratorConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const DiscriminatorConfig& c)
{
    j = json { { "n_layers", c.n_layers }, { "base_channels", c.base_channels }, { "max_channels", c.max_channels },
        { "learning_rate", c.learning_rate }, { "optimizer", c.optimizer } };
}
void from_json(const json& j, DiscriminatorConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const TrainLoadConfig& c)
{
    j = json { { "continue_train", c.continue_train }, { "load_epoch", c.load_epoch } };
}
void from_json(const json& j, TrainLoadConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const LossConfig& c)
{
    j = json::object();
    // Extras first so that a (programmatic) extra named like a known key cannot override it.
    for (const auto& [key, value] : c.extra)
        j[key] = value;
    j["lambda_gan"] = c.lambda_gan;
    j["lambda_l1"] = c.lambda_l1;
    j["lambda_l2"] = c.lambda_l2;
    j["lambda_sobel"] = c.lambda_sobel;
    j["lambda_laplacian"] = c.lambda_laplacian;
    j["lambda_vgg"] = c.lambda_vgg;
    j["spec"] = c.spec;
    j["subspec"] = c.subspec;
    j["vgg_weights"] = c.vgg_weights;
}
void from_json(const json& j, LossConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const TrainConfig& c)
{
    j = json { { "separate_lr_schedules", c.separate_lr_schedules }, { "load", c.load }, { "generator", c.generator },
        { "discriminator", c.discriminator }, { "loss", c.loss }, { "nonfinite_policy", c.nonfinite_policy },
        { "log_dump_rate", c.log_dump_rate }, { "update_rate", c.update_rate },
        { "history_buffer_size", c.history_buffer_size } };
}
void from_json(const json& j, TrainConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const SaveConfig& c)
{
    j = json { { "save_model", c.save_model }, { "model_save_rate", c.model_save_rate },
        { "auto_increment_version", c.auto_increment_version }, { "save_examples", c.save_examples },
        { "example_save_rate", c.example_save_rate }, { "num_examples", c.num_examples } };
}
void from_json(const json& j, SaveConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const VisdomConfig& c)
{
    j = json { { "enable", c.enable }, { "env_name", c.env_name }, { "server", c.server }, { "port", c.port },
        { "image_size", c.image_size }, { "update_frequency", c.update_frequency } };
}
void from_json(const json& j, VisdomConfig& c)
{
    read_standalone(j, c);
}

void to_json(json& j, const VisualizerConfig& c)
{
    j = json { { "visdom", c.visdom } };
}
void from_json(const json& j, VisualizerConfig& c)
{
    read_standalone(j, c);
}

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
        "/config/train/history_buffer_size" };
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
    s.sub("common", c.common);
    s.sub("dataloader", c.dataloader);
    s.sub("train", c.train);
    s.sub("save", c.save);
    s.sub("visualizer", c.visualizer);
    s.finish();
    root.finish();
    validate_config(c, source);
    return c;
}

void validate_config(const Config& c, const std::string& source)
{
    const Checker ck(source);

    const std::string common = "/config/common";
    if (!valid_device(c.common.device))
        ck.fail(common + "/device", "expected \"cpu\", \"cuda\", \"cuda:N\" or \"auto\"", json(c.common.device).dump());
    for (std::size_t i = 0; i < c.common.gpu_ids.size(); ++i)
        ck.at_least(common + "/gpu_ids/" + std::to_string(i), c.common.gpu_ids[i], 0);
    ck.at_least(common + "/experiment_version", c.common.experiment_version, 0);
    ck.at_least(common + "/num_threads", c.common.num_threads, 0);

    const std::string dl = "/config/dataloader";
    ck.one_of(dl + "/direction", c.dataloader.direction, { "AtoB", "BtoA" });
    ck.at_least(dl + "/batch_size", c.dataloader.batch_size, 1);
    ck.at_least(dl + "/num_workers", c.dataloader.num_workers, 0);
    ck.at_least(dl + "/load/input_nc", c.dataloader.load.input_nc, 1);
    ck.at_least(dl + "/load/load_size", c.dataloader.load.load_size, 1);
    ck.at_least(dl + "/load/crop_size", c.dataloader.load.crop_size, 1);
    if (c.dataloader.load.crop_size > c.dataloader.load.load_size)
        ck.fail(dl + "/load/crop_size",
            "crop_size must be <= load_size (" + std::to_string(c.dataloader.load.load_size) + ")",
            std::to_string(c.dataloader.load.crop_size));
    const AugmentationsConfig& aug = c.dataloader.augmentations;
    for (const auto& [name, obj] : { std::pair<const char*, const json*> { "both", &aug.both }, { "input", &aug.input },
             { "target", &aug.target } })
        if (!obj->is_object())
            ck.fail(dl + "/augmentations/" + name, "expected an object", json_text(*obj));

    const std::string tr = "/config/train";
    ck.at_least(tr + "/load/load_epoch", c.train.load.load_epoch, 0);
    const GeneratorConfig& g = c.train.generator;
    ck.at_least(tr + "/generator/features", g.features, 1);
    ck.at_least(tr + "/generator/n_downs", g.n_downs, 1);
    ck.one_of(tr + "/generator/block_type", g.block_type, { "UnetBlock", "ResidualUnetBlock" });
    ck.one_of(tr + "/generator/upsample_type", g.upsample_type, { "Transposed", "Bilinear" });
    check_lr(ck, tr + "/generator/learning_rate", g.learning_rate);
    check_beta1(ck, tr + "/generator/optimizer/beta1", g.optimizer.beta1);
    const DiscriminatorConfig& d = c.train.discriminator;
    ck.at_least(tr + "/discriminator/n_layers", d.n_layers, 1);
    ck.at_least(tr + "/discriminator/base_channels", d.base_channels, 1);
    ck.at_least(tr + "/discriminator/max_channels", d.max_channels, 1);
    check_lr(ck, tr + "/discriminator/learning_rate", d.learning_rate);
    check_beta1(ck, tr + "/discriminator/optimizer/beta1", d.optimizer.beta1);

    const LossConfig& l = c.train.loss;
    const std::string lp = tr + "/loss";
    ck.non_negative(lp + "/lambda_gan", l.lambda_gan);
    ck.non_negative(lp + "/lambda_l1", l.lambda_l1);
    ck.non_negative(lp + "/lambda_l2", l.lambda_l2);
    ck.non_negative(lp + "/lambda_sobel", l.lambda_sobel);
    ck.non_negative(lp + "/lambda_laplacian", l.lambda_laplacian);
    ck.non_negative(lp + "/lambda_vgg", l.lambda_vgg);
    if (l.spec.empty())
        ck.fail(lp + "/spec", "expected a spec name", "\"\"");
    static const std::set<std::string> known_loss_keys { "lambda_gan", "lambda_l1", "lambda_l2", "lambda_sobel",
        "lambda_laplacian", "lambda_vgg", "spec", "subspec", "vgg_weights" };
    for (const auto& [key, value] : l.extra) {
        const std::string p = lp + "/" + pointer_token(key);
        if (key.empty() || known_loss_keys.count(key))
            ck.fail(p, "extra loss key must not be empty or repeat a known key", json(key).dump());
        if (key.rfind("lambda_", 0) == 0)
            ck.non_negative(p, value);
        else
            ck.finite(p, value);
    }
    ck.one_of(tr + "/nonfinite_policy", c.train.nonfinite_policy, { "stop", "skip", "ignore" });
    ck.at_least(tr + "/log_dump_rate", c.train.log_dump_rate, 1);
    ck.at_least(tr + "/update_rate", c.train.update_rate, 1);
    ck.at_least(tr + "/history_buffer_size", c.train.history_buffer_size, 1);

    const std::string sv = "/config/save";
    ck.at_least(sv + "/model_save_rate", c.save.model_save_rate, 1);
    ck.at_least(sv + "/example_save_rate", c.save.example_save_rate, 1);
    ck.at_least(sv + "/num_examples", c.save.num_examples, 0);

    const std::string vp = "/config/visualizer/visdom";
    ck.at_least(vp + "/port", c.visualizer.visdom.port, 0);
    if (c.visualizer.visdom.port > 65535)
        ck.fail(vp + "/port", "expected a port number <= 65535", std::to_string(c.visualizer.visdom.port));
    ck.at_least(vp + "/image_size", c.visualizer.visdom.image_size, 1);
    ck.at_least(vp + "/update_frequency", c.visualizer.visdom.update_frequency, 1);

    if (!c.unknown.is_object())
        throw ConfigError(located(source, "/", "Config::unknown must be a JSON object of pointer -> value"));
}

Config load_config_file(const std::string& path, std::vector<std::string>* warnings)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(path + ": cannot open the config file for reading");
    json j;
    try {
        j = json::parse(in);
    } catch (const json::exception& e) {
        // parse_error, or out_of_range for a number literal that overflows a double (1e999).
        throw ConfigError(path + ": not valid JSON: " + e.what());
    }
    return config_from_json(j, warnings, path);
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
