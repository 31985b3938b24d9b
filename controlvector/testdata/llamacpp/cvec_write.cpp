// cvec_write writes a control vector with ggml's own GGUF writer, the way llama.cpp's
// cvector-generator writes its output: general.architecture, controlvector.model_hint, an int32
// controlvector.layer_count, and 1-D F32 tensors direction.1 .. direction.N. Value j of
// direction.il is (il·1000 + j) / 64, exact in float32. Built and run by TestImportsGGMLFiles.
//
// usage: cvec_write OUT.gguf N_EMBD N_LAYERS
#include <cstdio>
#include <cstdlib>

#include "ggml.h"
#include "gguf.h"

int main(int argc, char ** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s OUT N_EMBD N_LAYERS\n", argv[0]);
        return 2;
    }
    const int n_embd = atoi(argv[2]), n_layers = atoi(argv[3]);
    ggml_init_params params = {
        /*.mem_size   =*/ ggml_tensor_overhead() * n_layers + sizeof(float) * n_embd * n_layers + 1024,
        /*.mem_buffer =*/ nullptr,
        /*.no_alloc   =*/ false,
    };
    ggml_context * ctx = ggml_init(params);
    gguf_context * out = gguf_init_empty();
    gguf_set_val_str(out, "general.architecture", "controlvector");
    gguf_set_val_str(out, "controlvector.model_hint", "gpt2");
    gguf_set_val_i32(out, "controlvector.layer_count", n_layers);
    for (int il = 1; il <= n_layers; il++) {
        ggml_tensor * t = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, n_embd);
        ggml_format_name(t, "direction.%d", il);
        float * data = (float *) t->data;
        for (int j = 0; j < n_embd; j++) {
            data[j] = (float) (il * 1000 + j) / 64.0f;
        }
        gguf_add_tensor(out, t);
    }
    if (!gguf_write_to_file(out, argv[1], false)) {
        fprintf(stderr, "cannot write %s\n", argv[1]);
        return 1;
    }
    gguf_free(out);
    ggml_free(ctx);
    return 0;
}
