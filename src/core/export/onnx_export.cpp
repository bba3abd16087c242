// SPDX-License-Identifier: Apache-2.0
#include "export/onnx_export.h"

#include <filesystem>
#include <map>
#include <stdexcept>

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <torch/torch.h>

#include "config/config.h"
#include "models/model_types.h"
#include "models/unet.h"
#include "training/checkpoint.h"
#include "training/experiment.h"
#include "util/atomic_file.h"
#include "util/paths.h"

namespace nectar {

namespace {

// Builds the graph; initializers carry the generator's state_dict names ("downs.0.conv.0.weight").
class GraphBuilder {
public:
    GraphBuilder(onnx::GraphProto& graph, UnetGeneratorImpl& generator)
        : m_graph(graph)
    {
        for (const auto& p : generator.named_parameters())
            m_params.emplace(p.key(), p.value());
    }

    std::int64_t parameters() const { return m_parameters; }

    std::string param(const std::string& name)
    {
        const auto it = m_params.find(name);
        if (it == m_params.end())
            throw std::logic_error("ONNX export: the generator has no parameter " + name);
        const auto t = it->second.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        auto* init = m_graph.add_initializer();
        init->set_name(name);
        init->set_data_type(onnx::TensorProto::FLOAT);
        for (const auto d : t.sizes())
            init->add_dims(d);
        init->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float)));
        m_parameters += t.numel();
        return name;
    }
    bool has_param(const std::string& name) const { return m_params.count(name) != 0; }

    std::string floats(const std::string& base, const std::vector<float>& v, bool one_dim = true)
    {
        auto* init = m_graph.add_initializer();
        const std::string name = unique(base);
        init->set_name(name);
        init->set_data_type(onnx::TensorProto::FLOAT);
        if (one_dim)
            init->add_dims(static_cast<std::int64_t>(v.size()));
        for (float f : v)
            init->add_float_data(f);
        return name;
    }
    std::string int64s(const std::string& base, const std::vector<std::int64_t>& v)
    {
        auto* init = m_graph.add_initializer();
        const std::string name = unique(base);
        init->set_name(name);
        init->set_data_type(onnx::TensorProto::INT64);
        init->add_dims(static_cast<std::int64_t>(v.size()));
        for (auto i : v)
            init->add_int64_data(i);
        return name;
    }

    onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& base,
        const std::string& output = {})
    {
        auto* n = m_graph.add_node();
        n->set_op_type(op);
        n->set_name(unique(base + "/" + op));
        for (const auto& i : inputs)
            n->add_input(i);
        n->add_output(output.empty() ? unique(base + "/" + op + "_out") : output);
        return *n;
    }
    static std::string out(const onnx::NodeProto& n) { return n.output(0); }

    static void ints(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v)
    {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (auto i : v)
            a->add_ints(i);
    }
    static void integer(onnx::NodeProto& n, const std::string& name, std::int64_t v)
    {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void real(onnx::NodeProto& n, const std::string& name, float v)
    {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(v);
    }
    static void text(onnx::NodeProto& n, const std::string& name, const std::string& v)
    {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::STRING);
        a->set_s(v);
    }

private:
    std::string unique(const std::string& base) { return base + "_" + std::to_string(m_counter++); }

    onnx::GraphProto& m_graph;
    std::map<std::string, torch::Tensor> m_params;
    std::int64_t m_parameters = 0;
    int m_counter = 0;
};

// torch::nn::ReflectionPad2d(p) / Conv2d(padding_mode reflect): ONNX pads are [begins..., ends...] over N, C, H, W.
std::string reflect_pad(GraphBuilder& g, const std::string& x, const std::string& base, std::int64_t p)
{
    auto& n = g.node("Pad", { x, g.int64s(base + "/pads", { 0, 0, p, p, 0, 0, p, p }) }, base);
    GraphBuilder::text(n, "mode", "reflect");
    return GraphBuilder::out(n);
}

std::string conv(GraphBuilder& g, const std::string& x, const std::string& prefix, std::int64_t k, std::int64_t stride,
    bool transposed, std::int64_t padding = 0, std::int64_t output_padding = 0)
{
    std::vector<std::string> in { x, g.param(prefix + ".weight") };
    if (g.has_param(prefix + ".bias"))
        in.push_back(g.param(prefix + ".bias"));
    auto& n = g.node(transposed ? "ConvTranspose" : "Conv", in, prefix);
    GraphBuilder::ints(n, "kernel_shape", { k, k });
    GraphBuilder::ints(n, "strides", { stride, stride });
    GraphBuilder::ints(n, "pads", { padding, padding, padding, padding });
    if (output_padding)
        GraphBuilder::ints(n, "output_padding", { output_padding, output_padding });
    return GraphBuilder::out(n);
}

// torch::nn::Upsample(scale 2): bilinear with align_corners=false is ONNX's half_pixel; nearest is
// src = floor(dst / 2), ONNX's asymmetric + floor.
std::string upsample2x(GraphBuilder& g, const std::string& x, const std::string& base, bool bilinear)
{
    const std::string roi = g.floats(base + "/roi", {});
    const std::string scales = g.floats(base + "/scales", { 1.f, 1.f, 2.f, 2.f });
    auto& n = g.node("Resize", { x, roi, scales }, base);
    GraphBuilder::text(n, "mode", bilinear ? "linear" : "nearest");
    GraphBuilder::text(n, "coordinate_transformation_mode", bilinear ? "half_pixel" : "asymmetric");
    if (!bilinear)
        GraphBuilder::text(n, "nearest_mode", "floor");
    return GraphBuilder::out(n);
}

// One UnetBlockImpl::forward in eval mode (dropout is the identity).
std::string block(
    GraphBuilder& g, UnetBlockImpl& b, const std::string& prefix, const std::string& x, const std::string& output = {})
{
    const UnetBlockOptions& o = b.options;
    std::string y;
    if (o.down) {
        y = conv(g, reflect_pad(g, x, prefix + ".conv.0", 1), prefix + ".conv.0", 4, 2, false);
    } else if (o.upsample_type == UpsampleType::Transposed) {
        y = conv(g, x, prefix + ".conv.0", 4, 2, true, 1);
    } else {
        y = upsample2x(g, x, prefix + ".conv.0", true);
        y = conv(g, reflect_pad(g, y, prefix + ".conv.1", 1), prefix + ".conv.2", 3, 1, false);
    }
    const std::string act = prefix + ".conv.act";
    if (o.instance_norm) {
        const std::string norm = prefix + ".conv.norm";
        auto& n = g.node("InstanceNormalization",
            { y, g.floats(norm + "/scale", std::vector<float>(o.out_channels, 1.f)),
                g.floats(norm + "/bias", std::vector<float>(o.out_channels, 0.f)) },
            norm);
        GraphBuilder::real(n, "epsilon", 1e-5f); // torch::nn::InstanceNorm2d's default eps
        y = GraphBuilder::out(n);
    }
    const bool last = !o.residual;
    const std::string act_out = last ? output : std::string();
    switch (o.activation) {
    case UnetActivation::LeakyReLU: {
        auto& n = g.node("LeakyRelu", { y }, act, act_out);
        GraphBuilder::real(n, "alpha", 0.2f);
        y = GraphBuilder::out(n);
        break;
    }
    case UnetActivation::ReLU:
        y = GraphBuilder::out(g.node("Relu", { y }, act, act_out));
        break;
    case UnetActivation::Tanh:
        y = GraphBuilder::out(g.node("Tanh", { y }, act, act_out));
        break;
    case UnetActivation::None:
        if (last && !output.empty())
            y = GraphBuilder::out(g.node("Identity", { y }, act, output));
        break;
    }
    if (!o.residual)
        return y;
    std::string r;
    if (o.down || o.in_channels != o.out_channels) {
        r = o.down ? conv(g, x, prefix + ".residual.0", 1, 2, false)
                   : conv(g, x, prefix + ".residual.0", 1, 2, true, 0, 1);
        r = GraphBuilder::out(g.node("Relu", { r }, prefix + ".residual.1"));
    } else {
        r = upsample2x(g, x, prefix + ".residual.0", false);
    }
    return GraphBuilder::out(g.node("Add", { y, r }, prefix + ".add", output));
}

void check_side(const char* option, int size, int n_downs)
{
    const UnetSizeCheck c = check_unet_input_size(size, n_downs);
    if (!c.ok)
        throw std::invalid_argument(
            std::string("ONNX export: ") + option + " " + std::to_string(size) + ": " + c.message);
}

void value_info(onnx::ValueInfoProto& v, const std::string& name, bool dynamic_batch, int c, int h, int w)
{
    v.set_name(name);
    auto* t = v.mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    auto* shape = t->mutable_shape();
    auto* n = shape->add_dim();
    if (dynamic_batch)
        n->set_dim_param("batch");
    else
        n->set_dim_value(1);
    for (int d : { c, h, w })
        shape->add_dim()->set_dim_value(d);
}

} // namespace

int max_onnx_opset()
{
    const auto& map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
    const auto it = map.find(onnx::ONNX_DOMAIN);
    return it == map.end() ? 0 : it->second.second;
}

OnnxExportReport export_generator_onnx(
    UnetGeneratorImpl& generator, const std::string& path, const OnnxExportOptions& options)
{
    const UnetOptions& uo = generator.options();
    const int height = options.height ? options.height : uo.input_size;
    const int width = options.width ? options.width : uo.input_size;
    check_side("height", height, uo.n_downs);
    check_side("width", width, uo.n_downs);
    const int max_opset = max_onnx_opset();
    if (options.opset < 11 || options.opset > max_opset)
        throw std::invalid_argument("ONNX export: opset " + std::to_string(options.opset)
            + ": expected 11 (reflect Pad and Resize as in ONNX 1.6) to " + std::to_string(max_opset)
            + " (the newest opset of the linked libonnx " + NECTAR_ONNX_VERSION + ")");

    onnx::ModelProto model;
    model.set_ir_version(onnx::IR_VERSION);
    model.set_producer_name("nectar-toolbox");
    model.set_doc_string("pix2pix UNet generator (NectarGAN UnetGenerator), " + to_string(uo.block_type) + ", "
        + to_string(uo.upsample_type) + "; input in [-1, 1]");
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(options.opset);
    onnx::GraphProto& graph = *model.mutable_graph();
    graph.set_name("UnetGenerator");
    value_info(*graph.add_input(), "input", options.dynamic_batch, uo.in_channels, height, width);
    value_info(*graph.add_output(), "output", options.dynamic_batch, uo.resolved_out_channels(), height, width);

    GraphBuilder g(graph, generator);
    // Mirrors UnetGeneratorImpl::forward.
    std::string h = block(g, *generator.initial_down, "initial_down", "input");
    std::vector<std::string> skips { h };
    for (std::size_t i = 0; i < generator.downs->size(); ++i) {
        h = block(g, *generator.downs->ptr<UnetBlockImpl>(i), "downs." + std::to_string(i), h);
        skips.push_back(h);
    }
    h = block(g, *generator.bottleneck, "bottleneck", h);
    h = block(g, *generator.ups->ptr<UnetBlockImpl>(0), "ups.0", h);
    std::size_t s = skips.size() - 1;
    for (std::size_t i = 1; i < generator.ups->size(); ++i, --s) {
        const std::string prefix = "ups." + std::to_string(i);
        auto& cat = g.node("Concat", { h, skips[s] }, prefix + ".cat");
        GraphBuilder::integer(cat, "axis", 1);
        h = block(g, *generator.ups->ptr<UnetBlockImpl>(i), prefix, GraphBuilder::out(cat));
    }
    auto& cat = g.node("Concat", { h, skips.front() }, "final_up.cat");
    GraphBuilder::integer(cat, "axis", 1);
    block(g, *generator.final_up, "final_up", GraphBuilder::out(cat), "output");

    // check_model(full_check = true) of ONNX's Python API: the checker, then strict shape inference with
    // type checks (ONNX 1.12's C++ check_model has no full_check flag, so both steps are spelt out).
    try {
        onnx::checker::check_model(model);
        onnx::ModelProto inferred = model;
        onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
            onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/false));
        for (const auto& out : inferred.graph().output())
            if (out.name() == "output" && out.type().tensor_type().shape().dim_size() != 4)
                throw std::runtime_error("output shape not inferred");
    } catch (const std::exception& e) {
        throw std::runtime_error(
            "ONNX export of " + display_path(path) + ": the ONNX checker refused the model: " + e.what());
    }

    std::string bytes;
    if (!model.SerializeToString(&bytes))
        throw std::runtime_error(
            "ONNX export of " + display_path(path) + ": the model could not be serialised (protobuf's 2 GiB limit?)");
    write_file_atomically(path, bytes, "ONNX model");

    OnnxExportReport r;
    r.path = path;
    r.opset = options.opset;
    r.height = height;
    r.width = width;
    r.in_channels = uo.in_channels;
    r.out_channels = uo.resolved_out_channels();
    r.nodes = graph.node_size();
    r.parameters = g.parameters();
    r.bytes = static_cast<std::int64_t>(bytes.size());
    r.onnx_version = NECTAR_ONNX_VERSION;
    return r;
}

OnnxExportReport export_experiment_onnx(
    const std::string& experiment_dir, int epoch, const std::string& path, const OnnxExportOptions& options)
{
    const std::string config_path = latest_config_copy_path(experiment_dir);
    if (config_path.empty())
        throw CheckpointError(display_path(experiment_dir)
            + " is not an experiment folder: it has no train<K>_config.json (expected a folder written by "
              "nectar-train, <name>_v<N>)");
    const Config config = load_config_file(config_path);
    UnetGenerator generator(unet_options_from_config(config));
    load_generator_weights(experiment_dir, epoch, torch::kCPU, *generator);
    generator->eval();
    return export_generator_onnx(*generator, path, options);
}

} // namespace nectar
