"""tritonclient (HTTP and gRPC) against one OIP endpoint, with the client's default settings.

Usage: python triton_cases.py '<json config>'; prints one JSON object: case name -> result.
Config: {"http": "host:port", "grpc": "host:port", "model": name, "version": "1",
         "headers": {...} (sent with every model call, e.g. seldon-model for a pipeline),
         "cases": [names] (default: all)}
"""
import json
import sys
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

cfg = json.loads(sys.argv[1])
model = cfg["model"]
_headers = cfg.get("headers") or {}


def hdrs():
    """A fresh copy per call: tritonclient adds its own headers to the dict it is given."""
    return dict(_headers)


flowers = np.array(
    [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]], dtype=np.float64
)


def http_client():
    return httpclient.InferenceServerClient(cfg["http"])


def grpc_client():
    return grpcclient.InferenceServerClient(cfg["grpc"])


def http_input(mod=httpclient):
    inp = mod.InferInput("predict", [3, 4], "FP64")
    inp.set_data_from_numpy(flowers)  # binary_data=True by default on HTTP; raw contents on gRPC
    return inp


def http_infer(**kw):
    result = http_client().infer(model, [http_input()], headers=hdrs(), **kw)
    return {"model_name": result.get_response()["model_name"], "predict": result.as_numpy("predict").flatten().tolist()}


def grpc_infer(**kw):
    result = grpc_client().infer(model, [http_input(grpcclient)], headers=hdrs(), **kw)
    return {"model_name": result.get_response().model_name, "predict": result.as_numpy("predict").flatten().tolist()}


def grpc_bad_shape():
    inp = grpcclient.InferInput("predict", [3, 4], "FP64")
    inp.set_data_from_numpy(flowers)
    inp.set_shape([3, 5])  # 15 elements announced, 12 sent
    grpc_client().infer(model, [inp], headers=hdrs())


def http_model_error():
    # Three features where the model takes four: the model itself fails.
    inp = httpclient.InferInput("predict", [1, 3], "FP64")
    inp.set_data_from_numpy(np.array([[1.0, 2.0, 3.0]]))
    http_client().infer(model, [inp], headers=hdrs())


CASES = {
    "http live": lambda: http_client().is_server_live(),
    "http ready": lambda: http_client().is_server_ready(),
    "http model ready": lambda: http_client().is_model_ready(model, headers=hdrs()),
    "http model ready, versioned": lambda: http_client().is_model_ready(model, cfg["version"], headers=hdrs()),
    "http model metadata": lambda: http_client().get_model_metadata(model, headers=hdrs())["name"],
    "http infer, binary": lambda: http_infer(),
    "http infer, gzip both ways": lambda: http_infer(
        request_compression_algorithm="gzip", response_compression_algorithm="gzip"
    ),
    "http infer, deflate both ways": lambda: http_infer(
        request_compression_algorithm="deflate", response_compression_algorithm="deflate"
    ),
    "http model error": http_model_error,
    "grpc live": lambda: grpc_client().is_server_live(),
    "grpc ready": lambda: grpc_client().is_server_ready(),
    "grpc model ready": lambda: grpc_client().is_model_ready(model, headers=hdrs()),
    "grpc model ready, versioned": lambda: grpc_client().is_model_ready(model, cfg["version"], headers=hdrs()),
    "grpc model ready, unknown model": lambda: grpc_client().is_model_ready("nope"),
    "grpc model metadata": lambda: grpc_client().get_model_metadata(model, headers=hdrs()).name,
    "grpc model metadata, versioned": lambda: grpc_client()
    .get_model_metadata(model, cfg["version"], headers=hdrs())
    .name,
    "grpc infer, raw contents": lambda: grpc_infer(),
    "grpc infer, gzip": lambda: grpc_infer(compression_algorithm="gzip"),
    "grpc infer, deflate": lambda: grpc_infer(compression_algorithm="deflate"),
    "grpc bad shape": grpc_bad_shape,
}


def run(fn):
    started = time.monotonic()
    try:
        return {"ok": True, "value": fn(), "seconds": round(time.monotonic() - started, 3)}
    except InferenceServerException as e:
        return {"ok": False, "status": str(e.status()), "message": e.message(),
                "seconds": round(time.monotonic() - started, 3)}
    except Exception as e:  # a client-side failure is a result too
        return {"ok": False, "status": type(e).__name__, "message": str(e),
                "seconds": round(time.monotonic() - started, 3)}


names = cfg.get("cases") or list(CASES)
print(json.dumps({name: run(CASES[name]) for name in names}))
