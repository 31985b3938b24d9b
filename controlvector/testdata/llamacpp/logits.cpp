// logits runs a GGUF model through llama.cpp (CPU) on one row of token ids, optionally with a
// control vector loaded by llama.cpp's own loader (common_control_vector_load) and applied with
// llama_set_adapter_cvec, and writes the logits of every position as little-endian float32 to
// a file, [n_tokens][n_vocab]. Built and run by TestLlamaCppAgrees (llamacpp_test.go).
//
// usage: logits BACKEND_DIR MODEL.gguf OUT.bin CVEC.gguf|- STRENGTH LAYER_START LAYER_END TOKEN...
// (BACKEND_DIR holds ggml's CPU back ends, libggml-cpu-*.so, loaded at run time)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common.h"
#include "ggml-backend.h"
#include "llama.h"

int main(int argc, char ** argv) {
    if (argc < 9) {
        fprintf(stderr, "usage: %s BACKEND_DIR MODEL OUT CVEC|- STRENGTH START END TOKEN...\n", argv[0]);
        return 2;
    }
    ggml_backend_load_all_from_path(argv[1]);
    argv++;
    argc--;
    const std::string cvec_path = argv[3];
    const float strength = strtof(argv[4], nullptr);
    const int il_start = atoi(argv[5]), il_end = atoi(argv[6]);
    std::vector<llama_token> tokens;
    for (int i = 7; i < argc; i++) {
        tokens.push_back(atoi(argv[i]));
    }

    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) {
        fprintf(stderr, "cannot load model %s\n", argv[1]);
        return 1;
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256;
    cp.n_batch = 256;
    cp.n_ubatch = 256;
    cp.n_threads = 1;
    cp.n_threads_batch = 1;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "cannot create a context\n");
        return 1;
    }
    if (cvec_path != "-") {
        common_control_vector_load_info info;
        info.strength = strength;
        info.fname = cvec_path;
        common_control_vector_data cv = common_control_vector_load({info});
        if (cv.n_embd == -1) {
            fprintf(stderr, "llama.cpp refused the control vector %s\n", cvec_path.c_str());
            return 1;
        }
        if (llama_set_adapter_cvec(ctx, cv.data.data(), cv.data.size(), cv.n_embd, il_start, il_end) != 0) {
            fprintf(stderr, "llama_set_adapter_cvec failed\n");
            return 1;
        }
    }
    llama_batch batch = llama_batch_init((int32_t) tokens.size(), 0, 1);
    for (size_t i = 0; i < tokens.size(); i++) {
        batch.token[i] = tokens[i];
        batch.pos[i] = (llama_pos) i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = (int32_t) tokens.size();
    if (llama_decode(ctx, batch) != 0) {
        fprintf(stderr, "llama_decode failed\n");
        return 1;
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE * out = fopen(argv[2], "wb");
    if (!out) {
        return 1;
    }
    for (size_t i = 0; i < tokens.size(); i++) {
        fwrite(llama_get_logits_ith(ctx, (int32_t) i), sizeof(float), n_vocab, out);
    }
    fclose(out);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
