// SPDX-License-Identifier: Apache-2.0
#include "distributed/dist_settings.h"

#include <cerrno>
#include <cstdlib>

#include "util/error.h"

namespace nectar {

DistBackend parse_dist_backend(const std::string& text, const std::string& what)
{
    if (text == "auto")
        return DistBackend::Auto;
    if (text == "gloo")
        return DistBackend::Gloo;
    if (text == "nccl")
        return DistBackend::Nccl;
    throw InputError(what + " \"" + text + "\": expected auto, gloo or nccl");
}

const char* dist_backend_name(DistBackend b)
{
    switch (b) {
    case DistBackend::Gloo:
        return "gloo";
    case DistBackend::Nccl:
        return "nccl";
    case DistBackend::Auto:
        break;
    }
    return "auto";
}

void DistSettings::validate() const
{
    if (world_size < 1)
        throw InputError("world size " + std::to_string(world_size) + ": expected at least 1 process");
    if (rank < 0 || rank >= world_size)
        throw InputError(
            "rank " + std::to_string(rank) + ": expected 0 .. " + std::to_string(world_size - 1) + " (world size)");
    if (local_world_size < 1 || local_rank < 0 || local_rank >= local_world_size)
        throw InputError("local rank " + std::to_string(local_rank) + " of " + std::to_string(local_world_size)
            + " local processes: expected 0 .. local world size - 1");
    if (master_port < 1 || master_port > 65535)
        throw InputError("master port " + std::to_string(master_port) + ": expected 1 .. 65535");
    if (master_addr.empty())
        throw InputError("master address is empty: expected a host name or IP address");
}

namespace {

long parse_long(const char* name, const char* text, long min)
{
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min)
        throw InputError(std::string(name) + "=" + text + ": expected an integer >= " + std::to_string(min));
    return v;
}

} // namespace

std::optional<DistSettings> dist_settings_from_env(const std::function<const char*(const char*)>& getenv_fn)
{
    const auto get = [&](const char* name) -> const char* {
        const char* v = getenv_fn ? getenv_fn(name) : std::getenv(name);
        return v && *v ? v : nullptr;
    };
    const char* world = get("WORLD_SIZE");
    if (!world)
        return std::nullopt;
    DistSettings s;
    s.world_size = static_cast<int>(parse_long("WORLD_SIZE", world, 1));
    const auto required = [&](const char* name) {
        const char* v = get(name);
        if (!v)
            throw InputError(std::string("WORLD_SIZE=") + world + " is set but " + name
                + " is not: a data-parallel process needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT");
        return v;
    };
    s.rank = static_cast<int>(parse_long("RANK", required("RANK"), 0));
    s.master_port = static_cast<int>(parse_long("MASTER_PORT", required("MASTER_PORT"), 1));
    if (const char* a = get("MASTER_ADDR"))
        s.master_addr = a;
    s.local_rank = get("LOCAL_RANK") ? static_cast<int>(parse_long("LOCAL_RANK", get("LOCAL_RANK"), 0)) : 0;
    s.local_world_size = get("LOCAL_WORLD_SIZE")
        ? static_cast<int>(parse_long("LOCAL_WORLD_SIZE", get("LOCAL_WORLD_SIZE"), 1))
        : s.local_rank + 1;
    if (const char* agent = get("TORCHELASTIC_USE_AGENT_STORE"))
        s.agent_store = std::string(agent) == "True" || std::string(agent) == "1" || std::string(agent) == "true";
    if (const char* b = get("NECTAR_DIST_BACKEND"))
        s.backend = parse_dist_backend(b, "NECTAR_DIST_BACKEND");
    if (const char* t = get("NECTAR_RENDEZVOUS_TIMEOUT"))
        s.rendezvous_timeout = std::chrono::seconds(parse_long("NECTAR_RENDEZVOUS_TIMEOUT", t, 1));
    if (const char* t = get("NECTAR_COLLECTIVE_TIMEOUT"))
        s.collective_timeout = std::chrono::seconds(parse_long("NECTAR_COLLECTIVE_TIMEOUT", t, 1));
    s.validate();
    return s;
}

} // namespace nectar
