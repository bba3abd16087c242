// SPDX-License-Identifier: Apache-2.0
#include "training/nonfinite.h"
#include "util/strings.h"

#include <cmath>
#include <sstream>

#include <torch/torch.h>

namespace nectar {

bool check_finite(NonFinitePolicy policy, const torch::Tensor& total,
    const std::function<std::vector<SummedLoss>()>& parts, const std::string& what, int epoch, std::int64_t iteration,
    const std::function<void(const std::string&)>& warn, const std::function<bool(bool)>& any_rank)
{
    if (policy == NonFinitePolicy::Ignore)
        return true;
    const bool local_bad = !std::isfinite(total.item<float>());
    const bool bad = any_rank ? any_rank(local_bad) : local_bad;
    if (!bad)
        return true;
    const std::string where = local_bad ? "" : " on another rank";
    if (policy == NonFinitePolicy::Skip) {
        if (warn)
            warn("non-finite " + what + where + " at epoch " + std::to_string(epoch) + ", iteration "
                + std::to_string(iteration) + ": optimizer step skipped (train.nonfinite_policy = \"skip\")");
        return false;
    }
    if (!local_bad) {
        std::ostringstream s;
        s << "non-finite " << what << where << " at epoch " << epoch << ", iteration " << iteration
          << "; every rank stopped before the optimizer step (train.nonfinite_policy = \"stop\")";
        throw NonFiniteLossError(s.str(), what, {}, epoch, iteration);
    }
    // Rare path: find the culprit (one sync per loss is fine here).
    for (const SummedLoss& l : parts()) {
        if (!l.value.defined())
            continue;
        const float v = l.value.item<float>();
        if (!std::isfinite(v)) {
            std::ostringstream s;
            s << "non-finite loss: " << l.name << " = " << v << " (tags " << join(l.tags) << ") at epoch " << epoch
              << ", iteration " << iteration
              << "; training stopped before the optimizer step (train.nonfinite_policy = \"stop\")";
            throw NonFiniteLossError(s.str(), l.name, l.tags, epoch, iteration);
        }
    }
    std::ostringstream s;
    s << "non-finite " << what << " at epoch " << epoch << ", iteration " << iteration;
    throw NonFiniteLossError(s.str(), what, {}, epoch, iteration);
}

} // namespace nectar
