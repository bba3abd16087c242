// SPDX-License-Identifier: Apache-2.0
// Runs an ONNX model on onnxruntime's C++ API (Debian 13's libonnxruntime-dev): tst_onnx_export's independent
// runtime, in its own process so onnxruntime's libraries never share one with LibTorch's. Same arguments as
// ort_run.mjs:  ort_run MODEL INPUT.f32 N C H W OUTPUT.f32  (raw float32 files); prints the output shape.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <onnxruntime_cxx_api.h>

int main(int argc, char** argv)
{
    if (argc != 8) {
        std::cerr << "usage: ort_run MODEL INPUT.f32 N C H W OUTPUT.f32\n";
        return 2;
    }
    try {
        std::ifstream in(argv[2], std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::vector<float> data(bytes.size() / sizeof(float));
        std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(data.data()));
        const std::vector<std::int64_t> dims { std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]),
            std::stoll(argv[6]) };

        Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "ort_run");
        Ort::SessionOptions options;
        options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);
        Ort::Session session(env, argv[1], options);
        const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
        Ort::Value input = Ort::Value::CreateTensor<float>(memory, data.data(), data.size(), dims.data(), dims.size());
        const char* in_names[] = { "input" };
        const char* out_names[] = { "output" };
        auto outputs = session.Run(Ort::RunOptions { nullptr }, in_names, &input, 1, out_names, 1);
        const auto info = outputs.front().GetTensorTypeAndShapeInfo();
        const float* out = outputs.front().GetTensorData<float>();
        std::ofstream(argv[7], std::ios::binary)
            .write(reinterpret_cast<const char*>(out),
                static_cast<std::streamsize>(info.GetElementCount() * sizeof(float)));
        std::cout << "onnxruntime " << Ort::GetVersionString() << " output";
        for (auto d : info.GetShape())
            std::cout << ' ' << d;
        std::cout << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "ort_run: " << e.what() << '\n';
        return 1;
    }
}
