"""A tiny Open Inference Protocol REST server for the remote runtime test.

Model "sum" takes FP32 [n, 3] and answers score = the row's sum. Run with
Debian's python3-fastapi and python3-uvicorn: oip_server.py PORT.
"""
import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/v2/models/sum")
def metadata():
    return {"name": "sum", "versions": ["1"], "platform": "python",
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3]}],
            "outputs": [{"name": "score", "datatype": "FP32", "shape": [-1, 1]}]}


@app.post("/v2/models/sum/infer")
async def infer(body: dict):
    inp = body["inputs"][0]
    n, w = inp["shape"]
    data = inp["data"]
    if len(data) != n * w:
        return JSONResponse(status_code=400, content={"error": "bad shape"})
    scores = [sum(data[i * w:(i + 1) * w]) for i in range(n)]
    return {"model_name": "sum", "outputs": [{"name": "score", "datatype": "FP32", "shape": [n, 1], "data": scores}]}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
