// SPDX-License-Identifier: Apache-2.0
// Writes the cross-version checkpoint fixture (see checkpoint_fixture.h) into DIR, e.g.
//   build/release/bin/make_checkpoint_fixture tests/data/checkpoints/torch-1.13
// Run once per LibTorch release the project supports; the files are committed.

#include <fstream>
#include <iostream>

#include "checkpoint_fixture.h"
#include "training/checkpoint.h"

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: make_checkpoint_fixture DIR\n";
        return 2;
    }
    const std::string dir = argv[1];
    torch::manual_seed(11);
    auto m = testdata::checkpoint_fixture_models();
    nectar::FusedAdam og(m.generator->parameters(), torch::optim::AdamOptions(2e-4).betas({ 0.5, 0.999 }));
    nectar::FusedAdam od(m.discriminator->parameters(), torch::optim::AdamOptions(1e-4).betas({ 0.5, 0.999 }));
    const auto d_params = m.discriminator->parameters();
    for (int step = 0; step < 2; ++step) {
        for (auto& p : m.generator->parameters())
            p.mutable_grad() = torch::randn_like(p);
        // The last D parameter gets no gradient, so it has no Adam state in the archive.
        for (std::size_t i = 0; i + 1 < d_params.size(); ++i)
            d_params[i].mutable_grad() = torch::randn_like(d_params[i]);
        og.step();
        od.step();
    }
    nectar::CheckpointState st;
    st.epoch = 2;
    st.global_iteration = 10;
    st.lr_g = 2e-4;
    st.lr_d = 1e-4;
    st.extra = { { "written_by", "make_checkpoint_fixture" } };
    nectar::save_checkpoint(dir, st, *m.generator, og, *m.discriminator, od);
    nlohmann::json expected;
    expected["libtorch"] = TORCH_VERSION;
    expected["netG"] = testdata::checkpoint_fixture_summary(og);
    expected["netD"] = testdata::checkpoint_fixture_summary(od);
    std::ofstream(dir + "/expected.json") << expected.dump(2) << "\n";
    std::cout << "wrote " << dir << " (LibTorch " << TORCH_VERSION << ")\n";
    return 0;
}
