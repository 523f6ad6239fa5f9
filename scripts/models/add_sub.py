"""OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1, element by element: Triton's
`simple` sample model as an MLServer custom runtime, so pipelines built on it run on MLServer."""

from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import InferenceError
from mlserver.types import InferenceRequest, InferenceResponse


class AddSub(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        tensors = {t.name: NumpyCodec.decode_input(t) for t in payload.inputs}
        missing = [name for name in ("INPUT0", "INPUT1") if name not in tensors]
        if missing:
            raise InferenceError(f"missing input tensor(s) {', '.join(missing)}; send INPUT0 and INPUT1")
        a, b = tensors["INPUT0"], tensors["INPUT1"]
        if a.shape != b.shape:
            raise InferenceError(f"INPUT0 has shape {list(a.shape)} but INPUT1 has {list(b.shape)}; send equal shapes")
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[NumpyCodec.encode_output("OUTPUT0", a + b), NumpyCodec.encode_output("OUTPUT1", a - b)],
        )
