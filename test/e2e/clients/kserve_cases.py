"""The KServe SDK's REST and gRPC clients against one OIP endpoint, with their default settings.

Usage: python kserve_cases.py '<json config>'; prints one JSON object: case name -> result.
Config: {"http": "host:port", "grpc": "host:port", "model": name, "headers": {...}}
(kserve and tritonclient register the same protobuf symbols: they run in separate processes.)
"""
import asyncio
import json
import sys
import time

import grpc
import httpx
import numpy as np
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig

cfg = json.loads(sys.argv[1])
model = cfg["model"]
headers = cfg.get("headers") or {}
base = f"http://{cfg['http']}"
flowers = np.array(
    [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]], dtype=np.float64
)


def request():
    inp = InferInput("predict", [3, 4], "FP64")
    inp.set_data_from_numpy(flowers)  # binary_data=True by default
    return InferRequest(model_name=model, infer_inputs=[inp])


def rest():
    return InferenceRESTClient(RESTConfig(protocol="v2"))


async def rest_infer():
    res = await rest().infer(base, request(), model_name=model, headers=dict(headers))
    return {"model_name": res.model_name, "predict": res.outputs[0].as_numpy().flatten().tolist()}


async def experiment_split():
    """20 calls to an experiment, then 5 more that carry the route header the first one got."""
    client = rest()
    counts, routes = {}, []
    for _ in range(20):
        seen = {}
        res = await client.infer(base, request(), model_name=model,
                                 headers={"seldon-model": "ab.experiment"}, response_headers=seen)
        counts[res.model_name] = counts.get(res.model_name, 0) + 1
        routes.append(seen.get("x-seldon-route"))
    sticky = []
    for _ in range(5):
        res = await client.infer(base, request(), model_name=model,
                                 headers={"seldon-model": "ab.experiment", "x-seldon-route": routes[0]})
        sticky.append(res.model_name)
    return {"counts": counts, "sticky": sticky}


async def grpc_infer():
    async with InferenceGRPCClient(cfg["grpc"]) as client:
        res = await client.infer(request(), headers=list(headers.items()))
        return {"model_name": res.model_name, "predict": res.outputs[0].as_numpy().flatten().tolist()}


async def grpc_call(method, *args):
    async with InferenceGRPCClient(cfg["grpc"]) as client:
        return await getattr(client, method)(*args, headers=list(headers.items()))


CASES = {
    "kserve rest live": lambda: rest().is_server_live(base),
    "kserve rest ready": lambda: rest().is_server_ready(base),
    "kserve rest model ready": lambda: rest().is_model_ready(base, model, headers=dict(headers)),
    "kserve rest infer, binary": rest_infer,
    "kserve grpc live": lambda: grpc_call("is_server_live"),
    "kserve grpc model ready": lambda: grpc_call("is_model_ready", model),
    "kserve grpc infer": grpc_infer,
    "kserve rest experiment split": experiment_split,
}


async def run(fn):
    started = time.monotonic()
    took = lambda: round(time.monotonic() - started, 3)  # noqa: E731
    try:
        return {"ok": True, "value": await fn(), "seconds": took()}
    except httpx.HTTPStatusError as e:
        return {"ok": False, "status": str(e.response.status_code), "message": str(e), "seconds": took()}
    except grpc.RpcError as e:
        return {"ok": False, "status": e.code().name, "message": e.details(), "seconds": took()}
    except Exception as e:  # a client-side failure is a result too
        return {"ok": False, "status": type(e).__name__, "message": str(e), "seconds": took()}


async def main():
    names = cfg.get("cases") or list(CASES)
    return {name: await run(CASES[name]) for name in names}


print(json.dumps(asyncio.run(main())))
