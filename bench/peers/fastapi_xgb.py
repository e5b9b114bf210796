#!/usr/bin/python3
"""FastAPI peer for bench/serving: POST /predict {"features": [30 floats]}
answers {"score": p} from the same 100-tree XGBoost model Plinth serves.

As in shared baselines-serving.md: async def endpoint with a pydantic
model, Booster with nthread=1, inplace_predict on a 1x30 float32 array,
uvicorn with one worker, uvloop and httptools (what uvicorn[standard] gives).
Usage: fastapi_xgb.py MODEL_JSON PORT
"""
import sys
from typing import List

import numpy as np
import uvicorn
import xgboost as xgb
from fastapi import FastAPI
from pydantic import BaseModel

booster = xgb.Booster(model_file=sys.argv[1])
booster.set_param({"nthread": 1})
app = FastAPI()


class Request(BaseModel):
    features: List[float]


@app.post("/predict")
async def predict(req: Request):
    x = np.asarray(req.features, dtype=np.float32).reshape(1, -1)
    return {"score": float(booster.inplace_predict(x)[0])}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), workers=1,
                loop="uvloop", http="httptools", log_level="warning", access_log=False)
