// SPDX-License-Identifier: Apache-2.0
#include "training/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "util/atomic_file.h"
#include "util/json_read.h"
#include "util/limits.h"
#include "util/paths.h"
#include "util/strings.h"
#include "util/test_hooks.h"
#include "util/torch_compat.h"

namespace fs = std::filesystem;

namespace nectar {

namespace {

[[noreturn]] void missing(const std::string& dir, int epoch, const std::string& file)
{
    throw CheckpointError("no checkpoint for epoch " + std::to_string(epoch) + " in " + display_path(dir) + " (missing "
        + display_path(file) + "); epochs with a checkpoint: " + join_numbers(list_checkpoint_epochs(dir)));
}

void require_files(const std::string& dir, int epoch, const std::vector<std::string>& parts)
{
    for (const auto& part : parts) {
        const std::string f = checkpoint_file(dir, epoch, part);
        if (!fs::is_regular_file(f))
            missing(dir, epoch, f);
    }
}

std::string shape_text(const torch::Tensor& t)
{
    std::ostringstream os;
    os << t.sizes();
    return os.str();
}

/// LibTorch's Module::load takes a saved tensor of any shape (Tensor::set_), so a checkpoint of another model
/// size loads and fails later inside a forward pass with a raw shape error. Every parameter and buffer is
/// compared first; `hint` names the config keys that decide the shapes.
void check_shapes(torch::serialize::InputArchive& archive, const torch::nn::Module& module, const std::string& file,
    const std::string& hint, const std::string& prefix = {})
{
    auto check = [&](const std::string& name, const torch::Tensor& expected, bool is_buffer) {
        torch::Tensor saved;
        if (!archive.try_read(name, saved, is_buffer))
            throw CheckpointError("checkpoint " + display_path(file) + " does not match this model: it has no " + prefix
                + name + " (" + hint + ")");
        if (saved.sizes() != expected.sizes())
            throw CheckpointError("checkpoint " + display_path(file) + " does not match this model: " + prefix + name
                + " has shape " + shape_text(saved) + " in the checkpoint, " + shape_text(expected) + " in this model ("
                + hint + ")");
    };
    for (const auto& p : module.named_parameters(/*recurse=*/false))
        check(p.key(), p.value(), false);
    for (const auto& b : module.named_buffers(/*recurse=*/false))
        check(b.key(), b.value(), true);
    for (const auto& child : module.named_children()) {
        torch::serialize::InputArchive child_archive;
        if (!archive.try_read(child.key(), child_archive))
            throw CheckpointError("checkpoint " + display_path(file) + " does not match this model: it has no " + prefix
                + child.key() + " (" + hint + ")");
        check_shapes(child_archive, *child.value(), file, hint, prefix + child.key() + ".");
    }
}

const char* const kGeneratorKeys = "check train.generator.features, n_downs, block_type, upsample_type and "
                                   "dataloader.load.input_nc against the run that saved it";
const char* const kDiscriminatorKeys = "check train.discriminator.n_layers, base_channels, max_channels and "
                                       "dataloader.load.input_nc against the run that saved it";

void load_archive(torch::serialize::InputArchive& ar, const std::string& file, const torch::Device& device)
{
    try {
        ar.load_from(file, device);
    } catch (const c10::Error& e) {
        throw CheckpointError("cannot read checkpoint " + display_path(file) + ": " + e.what_without_backtrace());
    }
}

/// Loads an optimizer archive written by torch::optim::Adam::save (or FusedAdam's, the same) on either
/// LibTorch. LibTorch keys each saved state by its parameter's TensorImpl address as text: hex
/// ("0x55d0...") in 1.13, decimal in 2.x; 2.x's own loader parses keys as decimal, so a 1.13 archive's
/// states would all land on key 0. Here saved states are matched to `opt`'s parameters by their
/// position in the saved param_groups, whatever the key's spelling (as both LibTorch loaders intend).
/// The optimizer's options (lr, betas) are left as they are: the trainer sets them per epoch.
/// Throws c10::Error on a missing entry or a parameter count that does not match.
void load_adam_state(torch::serialize::InputArchive& archive, torch::optim::Adam& opt)
{
    torch::serialize::InputArchive state_archive, groups_archive;
    archive.read("state", state_archive);
    archive.read("param_groups", groups_archive);
    std::map<std::string, torch::optim::AdamParamState> saved;
    for (const auto& key : state_archive.keys()) {
        torch::serialize::InputArchive param_archive;
        state_archive.read(key, param_archive);
        torch::optim::AdamParamState st;
        st.serialize(param_archive);
        saved.emplace(key, std::move(st));
    }
    torch::Tensor n_groups;
    groups_archive.read("param_groups/size", n_groups);
    auto& groups = opt.param_groups();
    TORCH_CHECK(n_groups.item<std::int64_t>() == static_cast<std::int64_t>(groups.size()), "the archive has ",
        n_groups.item<std::int64_t>(), " parameter groups, the optimizer ", groups.size());
    opt.state().clear();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        torch::serialize::InputArchive group_archive;
        groups_archive.read("param_groups/" + std::to_string(g), group_archive);
        torch::Tensor n_params;
        group_archive.read("params/size", n_params);
        const auto& params = groups[g].params();
        TORCH_CHECK(n_params.item<std::int64_t>() == static_cast<std::int64_t>(params.size()), "parameter group ", g,
            " has ", n_params.item<std::int64_t>(), " parameters in the archive, ", params.size(), " in the optimizer");
        for (std::size_t i = 0; i < params.size(); ++i) {
            c10::IValue key;
            group_archive.read("params/" + std::to_string(i), key);
            const auto it = saved.find(key.toStringRef());
            if (it != saved.end()) // a parameter that never had a gradient has no state
                opt.state()[compat::optimizer_state_key(params[i])]
                    = std::make_unique<torch::optim::AdamParamState>(it->second);
        }
    }
}

void load_optimizer(torch::serialize::InputArchive& archive, torch::optim::Optimizer& opt)
{
    if (auto* adam = dynamic_cast<torch::optim::Adam*>(&opt))
        load_adam_state(archive, *adam);
    else
        opt.load(archive);
}

} // namespace

std::string checkpoint_file(const std::string& experiment_dir, int epoch, const std::string& part)
{
    return (fs::path(experiment_dir) / ("epoch" + std::to_string(epoch) + "_" + part + ".pt")).string();
}

std::vector<int> list_checkpoint_epochs(const std::string& experiment_dir)
{
    std::vector<int> epochs;
    std::error_code ec;
    if (!fs::is_directory(experiment_dir, ec))
        return epochs;
    static const std::regex re("epoch([0-9]{1,9})_trainer\\.pt");
    for (const auto& entry : fs::directory_iterator(experiment_dir, ec)) {
        std::smatch m;
        const std::string name = entry.path().filename().string();
        if (!std::regex_match(name, m, re))
            continue;
        const int e = std::stoi(m[1].str());
        if (fs::exists(checkpoint_file(experiment_dir, e, "netG"))
            && fs::exists(checkpoint_file(experiment_dir, e, "netD")))
            epochs.push_back(e);
    }
    std::sort(epochs.begin(), epochs.end());
    return epochs;
}

bool module_is_finite(const torch::nn::Module& module)
{
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> flags;
    for (const auto& p : module.parameters())
        flags.push_back(torch::isfinite(p).all());
    for (const auto& b : module.buffers())
        if (b.is_floating_point())
            flags.push_back(torch::isfinite(b).all());
    if (flags.empty())
        return true;
    return torch::stack(flags).all().item<bool>();
}

void capture_rng_state(CheckpointState& state, const torch::Device& device)
{
    {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        state.rng_cpu = gen.get_state();
    }
    if (device.is_cuda() && at::detail::getCUDAHooks().hasCUDA()) {
        auto gen = at::globalContext().defaultGenerator(
            torch::Device(torch::kCUDA, device.has_index() ? device.index() : 0));
        std::lock_guard<std::mutex> lock(gen.mutex());
        state.rng_cuda = gen.get_state();
    }
}

void restore_rng_state(const CheckpointState& state, const torch::Device& device)
{
    if (state.rng_cpu.defined()) {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state.rng_cpu.to(torch::kCPU));
    }
    if (state.rng_cuda.defined() && device.is_cuda() && at::detail::getCUDAHooks().hasCUDA()) {
        auto gen = at::globalContext().defaultGenerator(
            torch::Device(torch::kCUDA, device.has_index() ? device.index() : 0));
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state.rng_cuda.to(torch::kCPU));
    }
}

void save_checkpoint(const std::string& experiment_dir, const CheckpointState& state, torch::nn::Module& generator,
    torch::optim::Optimizer& opt_g, torch::nn::Module& discriminator, torch::optim::Optimizer& opt_d)
{
    if (!module_is_finite(generator) || !module_is_finite(discriminator))
        throw CheckpointError("not saving the checkpoint of epoch " + std::to_string(state.epoch)
            + ": the generator or discriminator holds NaN/Inf weights (existing checkpoints "
              "in "
            + display_path(experiment_dir) + " are kept)");
    std::error_code ec;
    fs::create_directories(experiment_dir, ec);

    struct Part {
        std::string final_path, tmp_path;
    };
    std::vector<Part> parts;
    auto write = [&](const std::string& name, const std::function<void(torch::serialize::OutputArchive&)>& fill) {
        Part p { checkpoint_file(experiment_dir, state.epoch, name), {} };
        p.tmp_path = p.final_path + ".tmp";
        torch::serialize::OutputArchive ar;
        fill(ar);
        try {
            ar.save_to(p.tmp_path);
            sync_file(p.tmp_path); // on disk before the rename makes it count
        } catch (const std::exception& e) {
            for (const auto& q : parts)
                fs::remove(q.tmp_path, ec);
            fs::remove(p.tmp_path, ec);
            const auto* te = dynamic_cast<const c10::Error*>(&e);
            throw CheckpointError(
                "cannot write checkpoint file " + p.tmp_path + ": " + (te ? te->what_without_backtrace() : e.what()));
        }
        parts.push_back(p);
    };
    auto net = [](torch::nn::Module& m, torch::optim::Optimizer& o) {
        return [&m, &o](torch::serialize::OutputArchive& ar) {
            torch::serialize::OutputArchive model, optim;
            m.save(model);
            o.save(optim);
            ar.write("model", model);
            ar.write("optimizer", optim);
        };
    };
    write("netG", net(generator, opt_g));
    write("netD", net(discriminator, opt_d));
    write("trainer", [&](torch::serialize::OutputArchive& ar) {
        ar.write("epoch", c10::IValue(static_cast<int64_t>(state.epoch)));
        ar.write("global_iteration", c10::IValue(static_cast<int64_t>(state.global_iteration)));
        ar.write("lr_g", c10::IValue(state.lr_g));
        ar.write("lr_d", c10::IValue(state.lr_d));
        ar.write("extra", c10::IValue(state.extra.dump()));
        if (state.rng_cpu.defined())
            ar.write("rng_cpu", state.rng_cpu);
        if (state.rng_cuda.defined())
            ar.write("rng_cuda", state.rng_cuda.cpu());
    });
    // The trainer file goes last: it marks the checkpoint as complete.
    for (const auto& p : parts) {
        if (&p == &parts.back())
            test_kill_point("during-checkpoint-write");
        fs::rename(p.tmp_path, p.final_path, ec);
        if (ec)
            throw CheckpointError("cannot move " + p.tmp_path + " to " + p.final_path + ": " + ec.message());
    }
    try {
        sync_folder(experiment_dir); // the renames
    } catch (const std::exception& e) {
        throw CheckpointError(std::string("checkpoint of epoch ") + std::to_string(state.epoch) + ": " + e.what());
    }
}

CheckpointState load_checkpoint(const std::string& experiment_dir, int epoch, const torch::Device& device,
    torch::nn::Module& generator, torch::optim::Optimizer& opt_g, torch::nn::Module& discriminator,
    torch::optim::Optimizer& opt_d)
{
    require_files(experiment_dir, epoch, { "netG", "netD", "trainer" });
    auto load_net = [&](const std::string& part, torch::nn::Module& m, torch::optim::Optimizer& o, const char* hint) {
        const std::string file = checkpoint_file(experiment_dir, epoch, part);
        torch::serialize::InputArchive ar, model, optim;
        load_archive(ar, file, device);
        try {
            ar.read("model", model);
            ar.read("optimizer", optim);
            check_shapes(model, m, file, hint);
            m.load(model);
            load_optimizer(optim, o);
        } catch (const c10::Error& e) {
            throw CheckpointError("checkpoint " + display_path(file)
                + " does not match the model/optimizer: " + e.what_without_backtrace());
        }
    };
    load_net("netG", generator, opt_g, kGeneratorKeys);
    load_net("netD", discriminator, opt_d, kDiscriminatorKeys);

    const std::string file = checkpoint_file(experiment_dir, epoch, "trainer");
    torch::serialize::InputArchive ar;
    load_archive(ar, file, torch::kCPU);
    CheckpointState st;
    try {
        c10::IValue v;
        ar.read("epoch", v);
        // Range-checked before the narrowing cast and before the trainer counts on from them.
        const std::int64_t saved_epoch = v.toInt();
        if (saved_epoch < 0 || saved_epoch > 2 * static_cast<std::int64_t>(limits::max_epochs))
            throw std::out_of_range(
                "epoch " + std::to_string(saved_epoch) + " is outside 0 to " + std::to_string(2 * limits::max_epochs));
        st.epoch = static_cast<int>(saved_epoch);
        ar.read("global_iteration", v);
        st.global_iteration = v.toInt();
        if (st.global_iteration < 0)
            throw std::out_of_range("global_iteration " + std::to_string(st.global_iteration) + " is negative");
        ar.read("lr_g", v);
        st.lr_g = v.toDouble();
        ar.read("lr_d", v);
        st.lr_d = v.toDouble();
        ar.read("extra", v);
        st.extra
            = parse_json_text<nlohmann::json>(v.toStringRef(), file + ": extra", json_limits::checkpoint_metadata());
        torch::Tensor t;
        if (ar.try_read("rng_cpu", t))
            st.rng_cpu = t;
        torch::Tensor c;
        if (ar.try_read("rng_cuda", c))
            st.rng_cuda = c;
    } catch (const std::exception& e) {
        throw CheckpointError("checkpoint " + display_path(file) + " is incomplete or corrupt: " + e.what());
    }
    return st;
}

void load_generator_weights(
    const std::string& experiment_dir, int epoch, const torch::Device& device, torch::nn::Module& generator)
{
    require_files(experiment_dir, epoch, { "netG" });
    const std::string file = checkpoint_file(experiment_dir, epoch, "netG");
    torch::serialize::InputArchive ar, model;
    load_archive(ar, file, device);
    try {
        ar.read("model", model);
        check_shapes(model, generator, file, kGeneratorKeys);
        generator.load(model);
    } catch (const c10::Error& e) {
        throw CheckpointError("checkpoint " + display_path(file)
            + " does not match the generator (check the experiment's "
              "train*_config.json model settings): "
            + e.what_without_backtrace());
    }
}

} // namespace nectar
