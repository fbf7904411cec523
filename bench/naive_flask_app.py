"""The naive baseline: Flask + Keras model.predict per request (what people glue together).

python bench/naive_flask_app.py MODEL.keras PORT
"""

import io
import sys

import keras
import numpy as np
from flask import Flask, jsonify, request
from PIL import Image

app = Flask(__name__)
model = keras.models.load_model(sys.argv[1], compile=False)


@app.post("/classify")
def classify():
    image = Image.open(io.BytesIO(request.files["file"].read())).convert("RGB")
    image = image.resize((224, 224))
    x = (np.asarray(image, dtype=np.float32) - 127.0) / 128.0
    logits = model.predict(x[None], verbose=0)[0]
    top = np.argsort(-logits)[:5]
    return jsonify({"top": [int(i) for i in top]})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]))
