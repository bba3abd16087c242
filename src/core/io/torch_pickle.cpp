// SPDX-License-Identifier: Apache-2.0
// Reader and writer for torch.save state dicts (both the zip format and the legacy pre-1.6 format
// torchvision's VGG19 file uses).
#include "io/torch_pickle.h"
#include "util/atomic_file.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

namespace nectar {

// ---------------------------------------------------------------------------------------------
// Minimal pickle reader for torch.save'd dicts of tensors.
//
// LibTorch's torch::pickle_load cannot read a Python state_dict: it turns
// collections.OrderedDict into None (pytorch/pytorch#67902, #100741) and reads only the zip
// format, while torchvision's vgg19-dcbb9e9d.pth predates it (legacy format, vision#2068).
// So we interpret the small pickle subset torch.save emits (protocol 2) ourselves.

namespace {

struct PyObj;
using PyRef = std::shared_ptr<PyObj>;

struct StorageRef {
    std::string key;
    torch::ScalarType dtype = torch::kFloat32;
    std::int64_t numel = 0;
    torch::Tensor data; // 1-D, filled from the archive
};

struct PyObj {
    enum class T { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor, Mark };
    T t = T::None;
    std::int64_t i = 0;
    double f = 0;
    std::string s; // Str, Global ("module.name")
    std::vector<PyRef> items; // Tuple, List
    std::vector<std::pair<PyRef, PyRef>> dict; // Dict
    std::shared_ptr<StorageRef> storage; // Storage; Tensor (pending rebuild)
    std::int64_t offset = 0; // Tensor
    std::vector<std::int64_t> size, stride; // Tensor
    torch::Tensor tensor; // Tensor (materialised)
};

PyRef make(PyObj::T t)
{
    auto p = std::make_shared<PyObj>();
    p->t = t;
    return p;
}

torch::ScalarType dtype_from_storage_name(const std::string& global, const std::string& file)
{
    static const std::map<std::string, torch::ScalarType> k
        = { { "FloatStorage", torch::kFloat32 }, { "DoubleStorage", torch::kFloat64 },
              { "HalfStorage", torch::kFloat16 }, { "BFloat16Storage", torch::kBFloat16 },
              { "LongStorage", torch::kInt64 }, { "IntStorage", torch::kInt32 }, { "ShortStorage", torch::kInt16 },
              { "CharStorage", torch::kInt8 }, { "ByteStorage", torch::kUInt8 }, { "BoolStorage", torch::kBool } };
    const auto dot = global.rfind('.');
    const auto it = k.find(dot == std::string::npos ? global : global.substr(dot + 1));
    if (it == k.end())
        throw std::runtime_error(file + ": unsupported tensor storage type " + global);
    return it->second;
}

std::vector<std::int64_t> int_tuple(const PyRef& p, const std::string& file)
{
    std::vector<std::int64_t> out;
    if (!p || (p->t != PyObj::T::Tuple && p->t != PyObj::T::List))
        throw std::runtime_error(file + ": malformed tensor size/stride in pickle");
    for (const auto& e : p->items)
        out.push_back(e->i);
    return out;
}

class Unpickler {
public:
    // `load_storage(key, dtype, numel)` returns the storage data for a persistent id, or an
    // undefined tensor when the data comes later (legacy format).
    using StorageLoader = std::function<torch::Tensor(const std::string&, torch::ScalarType, std::int64_t)>;

    Unpickler(const char* data, size_t size, std::string file, StorageLoader loader)
        : m_p(data)
        , m_end(data + size)
        , m_file(std::move(file))
        , m_loader(std::move(loader))
    {
    }

    PyRef load()
    {
        while (true) {
            const auto op = static_cast<unsigned char>(byte());
            switch (op) {
            case 0x80:
                byte();
                break; // PROTO
            case 0x95:
                bytes(8);
                break; // FRAME
            case '}':
                push(make(PyObj::T::Dict));
                break;
            case ']':
                push(make(PyObj::T::List));
                break;
            case ')':
                push(make(PyObj::T::Tuple));
                break;
            case '(':
                push(make(PyObj::T::Mark));
                break;
            case 't': {
                auto t = make(PyObj::T::Tuple);
                t->items = pop_mark();
                push(t);
                break;
            }
            case 0x85:
            case 0x86:
            case 0x87: { // TUPLE1..3
                const size_t n = op - 0x84;
                auto t = make(PyObj::T::Tuple);
                t->items.assign(m_stack.end() - n, m_stack.end());
                m_stack.resize(m_stack.size() - n);
                push(t);
                break;
            }
            case 'X':
                str(u32());
                break;
            case 0x8c:
                str(byte_u());
                break;
            case 'T':
                str(u32());
                break;
            case 'U':
                str(byte_u());
                break;
            case 'B':
                str(u32());
                break;
            case 'C':
                str(byte_u());
                break;
            case 'q':
                memo(byte_u());
                break;
            case 'r':
                memo(u32());
                break;
            case 0x94:
                memo(m_memo.size());
                break; // MEMOIZE
            case 'h':
                push(get_memo(byte_u()));
                break;
            case 'j':
                push(get_memo(u32()));
                break;
            case 'c': { // GLOBAL
                auto g = make(PyObj::T::Global);
                const auto module = line();
                g->s = module + "." + line();
                push(g);
                break;
            }
            case 0x93: { // STACK_GLOBAL
                auto name = pop(), module = pop();
                auto g = make(PyObj::T::Global);
                g->s = module->s + "." + name->s;
                push(g);
                break;
            }
            case 'J': {
                std::int32_t v;
                std::memcpy(&v, bytes(4), 4);
                push_int(v);
                break;
            }
            case 'K':
                push_int(byte_u());
                break;
            case 'M': {
                std::uint16_t v;
                std::memcpy(&v, bytes(2), 2);
                push_int(v);
                break;
            }
            case 0x8a: { // LONG1
                const size_t n = byte_u();
                const auto* b = reinterpret_cast<const unsigned char*>(bytes(n));
                std::uint64_t v = 0;
                for (size_t k = 0; k < n && k < 8; ++k)
                    v |= std::uint64_t(b[k]) << (8 * k);
                if (n > 0 && n < 8 && (b[n - 1] & 0x80))
                    v |= ~std::uint64_t(0) << (8 * n); // sign-extend
                push_int(std::int64_t(v));
                m_stack.back()->s.assign(reinterpret_cast<const char*>(b), n); // raw bytes (> 64-bit ints)
                break;
            }
            case 'I':
            case 'L': {
                auto l = line();
                if (!l.empty() && l.back() == 'L')
                    l.pop_back();
                if (l == "00" || l == "01") {
                    auto b = make(PyObj::T::Bool);
                    b->i = l == "01";
                    push(b);
                } else
                    push_int(std::stoll(l));
                break;
            }
            case 'G': { // BINFLOAT, big endian
                const auto* b = reinterpret_cast<const unsigned char*>(bytes(8));
                std::uint64_t u = 0;
                for (int k = 0; k < 8; ++k)
                    u = (u << 8) | b[k];
                auto f = make(PyObj::T::Float);
                std::memcpy(&f->f, &u, 8);
                push(f);
                break;
            }
            case 'N':
                push(make(PyObj::T::None));
                break;
            case 0x88:
            case 0x89: {
                auto b = make(PyObj::T::Bool);
                b->i = op == 0x88;
                push(b);
                break;
            }
            case 'Q':
                push(persistent(pop()));
                break; // BINPERSID
            case 'R': {
                auto args = pop();
                auto fn = pop();
                push(call(fn, args));
                break;
            }
            case 0x81: {
                auto args = pop();
                auto cls = pop();
                push(call(cls, args));
                break;
            } // NEWOBJ
            case 'b':
                pop();
                break; // BUILD: state (e.g. _metadata) ignored
            case 's': {
                auto v = pop();
                auto k = pop();
                top_dict()->dict.emplace_back(k, v);
                break;
            }
            case 'u': {
                auto kv = pop_mark();
                auto d = top_dict();
                for (size_t k = 0; k + 1 < kv.size(); k += 2)
                    d->dict.emplace_back(kv[k], kv[k + 1]);
                break;
            }
            case 'a': {
                auto v = pop();
                top()->items.push_back(v);
                break;
            }
            case 'e': {
                auto vs = pop_mark();
                auto l = top();
                l->items.insert(l->items.end(), vs.begin(), vs.end());
                break;
            }
            case '.':
                return pop(); // STOP
            default: {
                std::ostringstream os;
                os << m_file << ": unsupported pickle opcode 0x" << std::hex << int(op)
                   << " (not a torch.save state dict?)";
                throw std::runtime_error(os.str());
            }
            }
        }
    }

    const char* position() const { return m_p; }
    std::vector<PyRef>& tensors() { return m_tensors; }

private:
    [[noreturn]] void truncated() const { throw std::runtime_error(m_file + ": truncated or corrupt pickle data"); }
    char byte()
    {
        if (m_p >= m_end)
            truncated();
        return *m_p++;
    }
    size_t byte_u() { return static_cast<unsigned char>(byte()); }
    const char* bytes(size_t n)
    {
        if (size_t(m_end - m_p) < n)
            truncated();
        const char* b = m_p;
        m_p += n;
        return b;
    }
    size_t u32()
    {
        std::uint32_t v;
        std::memcpy(&v, bytes(4), 4);
        return v;
    }
    std::string line()
    {
        const char* nl = static_cast<const char*>(std::memchr(m_p, '\n', size_t(m_end - m_p)));
        if (!nl)
            truncated();
        std::string s(m_p, nl);
        m_p = nl + 1;
        return s;
    }
    void str(size_t n)
    {
        auto s = make(PyObj::T::Str);
        s->s.assign(bytes(n), n);
        push(s);
    }
    void push(PyRef p) { m_stack.push_back(std::move(p)); }
    void push_int(std::int64_t v)
    {
        auto p = make(PyObj::T::Int);
        p->i = v;
        p->f = double(v);
        push(p);
    }
    PyRef pop()
    {
        if (m_stack.empty())
            truncated();
        auto p = m_stack.back();
        m_stack.pop_back();
        return p;
    }
    PyRef top()
    {
        if (m_stack.empty())
            truncated();
        return m_stack.back();
    }
    PyRef top_dict()
    {
        auto d = top();
        if (d->t != PyObj::T::Dict)
            truncated();
        return d;
    }
    std::vector<PyRef> pop_mark()
    {
        std::vector<PyRef> out;
        while (true) {
            auto p = pop();
            if (p->t == PyObj::T::Mark)
                break;
            out.push_back(p);
        }
        return { out.rbegin(), out.rend() };
    }
    void memo(size_t idx)
    {
        if (m_memo.size() <= idx)
            m_memo.resize(idx + 1);
        m_memo[idx] = top();
    }
    PyRef get_memo(size_t idx)
    {
        if (idx >= m_memo.size() || !m_memo[idx])
            truncated();
        return m_memo[idx];
    }

    PyRef persistent(const PyRef& pid)
    {
        // ('storage', storage_type, key, location, numel[, view_metadata])
        if (pid->t != PyObj::T::Tuple || pid->items.size() < 5 || pid->items[0]->s != "storage")
            throw std::runtime_error(m_file + ": unsupported persistent id in pickle");
        auto st = std::make_shared<StorageRef>();
        st->dtype = dtype_from_storage_name(pid->items[1]->s, m_file);
        st->key = pid->items[2]->s;
        st->numel = pid->items[4]->i;
        auto it = m_storages.find(st->key);
        if (it != m_storages.end())
            st = it->second;
        else {
            st->data = m_loader(st->key, st->dtype, st->numel);
            m_storages[st->key] = st;
        }
        auto p = make(PyObj::T::Storage);
        p->storage = st;
        return p;
    }

    PyRef call(const PyRef& fn, const PyRef& args)
    {
        const std::string& name = fn->s;
        if (name == "collections.OrderedDict")
            return make(PyObj::T::Dict);
        // torch::pickle_save tags containers with their TorchScript type: (obj, "Dict[str, Tensor]").
        if (name == "torch.jit._pickle.restore_type_tag" && !args->items.empty())
            return args->items[0];
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
            // (storage, storage_offset, size, stride, ...)
            if (args->items.size() < 4 || args->items[0]->t != PyObj::T::Storage)
                throw std::runtime_error(m_file + ": malformed " + name + " call in pickle");
            auto t = make(PyObj::T::Tensor);
            t->storage = args->items[0]->storage;
            t->offset = args->items[1]->i;
            t->size = int_tuple(args->items[2], m_file);
            t->stride = int_tuple(args->items[3], m_file);
            m_tensors.push_back(t);
            return t;
        }
        throw std::runtime_error(m_file + ": unsupported object " + name
            + " in pickle (expected a dict of tensors as written by torch.save)");
    }

    const char* m_p;
    const char* m_end;
    std::string m_file;
    StorageLoader m_loader;
    std::vector<PyRef> m_stack, m_memo, m_tensors;
    std::map<std::string, std::shared_ptr<StorageRef>> m_storages;
};

void materialise(std::vector<PyRef>& tensors, const std::string& file)
{
    for (auto& t : tensors) {
        const auto& st = t->storage;
        if (!st->data.defined())
            throw std::runtime_error(file + ": storage " + st->key + " has no data");
        t->tensor = st->data.as_strided(t->size, t->stride, t->offset).clone();
    }
}

std::map<std::string, torch::Tensor> dict_of_tensors(const PyRef& root, const std::string& file)
{
    if (!root || root->t != PyObj::T::Dict)
        throw std::runtime_error(file + ": expected a dict of name -> tensor (a state dict)");
    std::map<std::string, torch::Tensor> out;
    for (const auto& [k, v] : root->dict) {
        if (k->t != PyObj::T::Str || v->t != PyObj::T::Tensor)
            throw std::runtime_error(file + ": state dict entry is not name -> tensor");
        out[k->s] = v->tensor;
    }
    return out;
}

std::vector<char> read_bytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("Cannot open " + path);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

size_t element_size(torch::ScalarType t)
{
    return c10::elementSize(t);
}

} // namespace

std::map<std::string, torch::Tensor> load_torch_state_dict(const std::string& path)
{
    const auto bytes = read_bytes(path);
    if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K') {
        // zip format (torch.save since 1.6, torch::pickle_save): data.pkl + data/<key>
        std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
        try {
            reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
        } catch (const std::exception& e) {
            throw std::runtime_error(path + ": not a readable torch zip archive: " + e.what());
        }
        if (!reader->hasRecord("data.pkl"))
            throw std::runtime_error(path + ": zip archive has no data.pkl (a TorchScript model, not a state dict?)");
        auto [pkl, pkl_size] = reader->getRecord("data.pkl");
        Unpickler up(static_cast<const char*>(pkl.get()), pkl_size, path,
            [&](const std::string& key, torch::ScalarType dtype, std::int64_t numel) {
                const std::string rec = "data/" + key;
                if (!reader->hasRecord(rec))
                    throw std::runtime_error(path + ": missing tensor record " + rec);
                auto [ptr, size] = reader->getRecord(rec);
                if (size < size_t(numel) * element_size(dtype))
                    throw std::runtime_error(path + ": tensor record " + rec + " is too short");
                auto t = torch::empty({ numel }, torch::TensorOptions().dtype(dtype));
                std::memcpy(t.data_ptr(), ptr.get(), size_t(numel) * element_size(dtype));
                return t;
            });
        auto root = up.load();
        materialise(up.tensors(), path);
        return dict_of_tensors(root, path);
    }
    // Legacy format: pickles of magic number, protocol, sys_info, the object, the storage keys;
    // then per key: int64 element count + raw little-endian data.
    const char* p = bytes.data();
    const char* end = p + bytes.size();
    auto next_pickle = [&](Unpickler::StorageLoader loader) {
        Unpickler up(p, size_t(end - p), path, std::move(loader));
        auto v = up.load();
        p = up.position();
        return std::make_pair(v, up.tensors());
    };
    auto none_loader = [](const std::string&, torch::ScalarType, std::int64_t) { return torch::Tensor(); };
    std::map<std::string, std::shared_ptr<StorageRef>> storages;
    auto magic = next_pickle(none_loader).first;
    // torch.serialization MAGIC_NUMBER 0x1950a86a20f9469cfc6c, little endian
    static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    if (magic->t != PyObj::T::Int || magic->s != kMagic)
        throw std::runtime_error(path + ": not a torch.save file (bad magic number)");
    next_pickle(none_loader); // protocol version
    next_pickle(none_loader); // sys_info
    auto [root, tensors] = next_pickle(none_loader);
    auto keys = next_pickle(none_loader).first;
    std::map<std::string, torch::Tensor> data;
    for (const auto& k : keys->items) {
        // dtype of this key: from any tensor that references it
        std::shared_ptr<StorageRef> st;
        for (const auto& t : tensors)
            if (t->storage->key == k->s)
                st = t->storage;
        if (size_t(end - p) < 8)
            throw std::runtime_error(path + ": truncated storage data for key " + k->s);
        std::int64_t numel;
        std::memcpy(&numel, p, 8);
        p += 8;
        const auto dtype = st ? st->dtype : torch::kFloat32;
        const size_t nbytes = size_t(numel) * element_size(dtype);
        if (numel < 0 || size_t(end - p) < nbytes)
            throw std::runtime_error(path + ": truncated storage data for key " + k->s);
        auto t = torch::empty({ numel }, torch::TensorOptions().dtype(dtype));
        std::memcpy(t.data_ptr(), p, nbytes);
        p += nbytes;
        if (st)
            st->data = t;
    }
    materialise(tensors, path);
    return dict_of_tensors(root, path);
}

void save_torch_state_dict(const std::map<std::string, torch::Tensor>& tensors, const std::string& path)
{
    c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
    for (const auto& [k, v] : tensors)
        dict.insert(k, v.detach().cpu().contiguous());
    const auto bytes = torch::pickle_save(dict);
    write_file_atomically(path, bytes.data(), bytes.size(), "state dict");
}

} // namespace nectar
