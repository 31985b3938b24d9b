"""Writes a control vector with llama.cpp's gguf-py package, through the calls repeng's
ControlVector.export_gguf makes: a GGUFWriter for architecture "controlvector", a string
controlvector.model_hint, a uint32 controlvector.layer_count and one float32 tensor
direction.{layer} per layer. Value j of direction.il is (il*1000 + j) / 64, as cvec_write.cpp
writes. Run by TestImportsGGMLFiles.

usage: repeng_style.py GGUF_PY_DIR OUT.gguf N_EMBD N_LAYERS
"""
import sys

sys.path.insert(0, sys.argv[1])
import gguf  # noqa: E402
import numpy as np  # noqa: E402

out, n_embd, n_layers = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
writer = gguf.GGUFWriter(out, "controlvector")
writer.add_string("controlvector.model_hint", "gpt2")
writer.add_uint32("controlvector.layer_count", n_layers)
for il in range(1, n_layers + 1):
    writer.add_tensor(f"direction.{il}", (np.arange(n_embd, dtype=np.float32) + il * 1000) / 64)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
