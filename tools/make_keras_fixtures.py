#!/usr/bin/env python3
"""Writes the small Keras 2 HDF5 model files the tests import (common/src/test/resources/models/).

Needs h5py and numpy only: the files are written in Keras 2's HDF5 layout (model_config JSON, model_weights
groups) without Keras. The classifiers are trained here by plain gradient descent on three Gaussian blobs in four
dimensions (class means TabularBlobs.MEANS in the Java tests), so they are real, fitted models.

  python3 tools/make_keras_fixtures.py common/src/test/resources/models
"""
import json
import sys

import h5py
import numpy as np

MEANS = np.array([[2.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, -1.0], [0.0, 0.0, 2.0, 0.0]])
HIDDEN = 8


def blobs(n, rng):
    y = rng.integers(0, 3, n)
    x = MEANS[y] + rng.normal(0.0, 1.0, (n, 4))
    return x.astype(np.float32), y


def train_mlp(seed):
    rng = np.random.default_rng(seed)
    x, y = blobs(600, rng)
    w1 = rng.normal(0, 0.5, (4, HIDDEN)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    w2 = rng.normal(0, 0.5, (HIDDEN, 3)).astype(np.float32)
    b2 = np.zeros(3, np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]
    for _ in range(300):
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        dz = (p - onehot) / len(x)
        dw2 = h.T @ dz
        dh = dz @ w2.T * (h > 0)
        dw1 = x.T @ dh
        w1 -= 0.5 * dw1
        b1 -= 0.5 * dh.sum(0)
        w2 -= 0.5 * dw2
        b2 -= 0.5 * dz.sum(0)
    acc = float((np.argmax(np.maximum(x @ w1 + b1, 0) @ w2 + b2, 1) == y).mean())
    return [w1, b1, w2, b2], acc


def train_residual(seed):
    """relu(x W1 + b1) + (x Ws + bs), then softmax(h W2 + b2): a skip connection added to the hidden layer."""
    rng = np.random.default_rng(seed)
    x, y = blobs(600, rng)
    w1 = rng.normal(0, 0.5, (4, HIDDEN)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    ws = rng.normal(0, 0.5, (4, HIDDEN)).astype(np.float32)
    bs = np.zeros(HIDDEN, np.float32)
    w2 = rng.normal(0, 0.5, (HIDDEN, 3)).astype(np.float32)
    b2 = np.zeros(3, np.float32)
    onehot = np.eye(3, dtype=np.float32)[y]

    def forward():
        a = np.maximum(x @ w1 + b1, 0)
        return a, a + x @ ws + bs
    for _ in range(300):
        a, h = forward()
        z = h @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        dz = (p - onehot) / len(x)
        dh = dz @ w2.T
        da = dh * (a > 0)
        w2 -= 0.2 * (h.T @ dz)
        b2 -= 0.2 * dz.sum(0)
        w1 -= 0.2 * (x.T @ da)
        b1 -= 0.2 * da.sum(0)
        ws -= 0.2 * (x.T @ dh)
        bs -= 0.2 * dh.sum(0)
    acc = float((np.argmax(forward()[1] @ w2 + b2, 1) == y).mean())
    return [w1, b1, ws, bs, w2, b2], acc


def dense(name, units, activation, first=False):
    cfg = {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
           "use_bias": True,
           "kernel_initializer": {"class_name": "VarianceScaling",
                                  "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform",
                                             "seed": None}},
           "bias_initializer": {"class_name": "Zeros", "config": {}},
           "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
           "kernel_constraint": None, "bias_constraint": None}
    if first:
        cfg["batch_input_shape"] = [None, 4]
    return {"class_name": "Dense", "config": cfg}


def write(path, config, weights):
    """weights: list of (layer name, [(weight name, array)])."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_("2.2.4")
        f.attrs["backend"] = np.bytes_("tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(config))
        g = f.create_group("model_weights")
        g.attrs["keras_version"] = np.bytes_("2.2.4")
        g.attrs["backend"] = np.bytes_("tensorflow")
        g.attrs["layer_names"] = np.array([np.bytes_(n) for n, _ in weights])
        for layer, ws in weights:
            lg = g.create_group(layer)
            lg.attrs["weight_names"] = np.array([np.bytes_(layer + "/" + w) for w, _ in ws])
            for w, a in ws:
                lg.create_dataset(layer + "/" + w, data=a)


def main(out):
    (w1, b1, w2, b2), acc = train_mlp(7)
    print("training accuracy of the fixture MLP: %.3f" % acc)
    weights = [("dense_1", [("kernel:0", w1), ("bias:0", b1)]), ("dense_2", [("kernel:0", w2), ("bias:0", b2)])]
    seq = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [
        dense("dense_1", HIDDEN, "relu", first=True), dense("dense_2", 3, "softmax")]}}
    write(out + "/keras-sequential-mlp.h5", seq, weights)

    def node(layer, inbound):
        d = dict(layer)
        d["name"] = layer["config"]["name"]
        d["inbound_nodes"] = [[[inbound, 0, 0, {}]]] if inbound else []
        return d
    inp = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32",
                                                  "sparse": False, "name": "input_1"}}
    functional = {"class_name": "Model", "config": {"name": "model_1", "layers": [
        node(inp, None), node(dense("dense_1", HIDDEN, "relu"), "input_1"), node(dense("dense_2", 3, "softmax"),
                                                                                  "dense_1")],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}
    write(out + "/keras-functional-mlp.h5", functional, weights)

    # a functional model with a skip connection (a ComputationGraph that is not a chain): dense_1(relu) + dense_skip(linear), added, then the softmax layer
    (r1, rb1, rs, rbs, r2, rb2), racc = train_residual(9)
    print("training accuracy of the fixture residual model: %.3f" % racc)
    add = {"class_name": "Add", "config": {"name": "add_1", "trainable": True, "dtype": "float32"}, "name": "add_1",
           "inbound_nodes": [[["dense_1", 0, 0, {}], ["dense_skip", 0, 0, {}]]]}
    residual = {"class_name": "Model", "config": {"name": "model_2", "layers": [
        node(inp, None), node(dense("dense_1", HIDDEN, "relu"), "input_1"),
        node(dense("dense_skip", HIDDEN, "linear"), "input_1"), add, node(dense("dense_2", 3, "softmax"), "add_1")],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}}
    write(out + "/keras-functional-residual.h5", residual,
          [("dense_1", [("kernel:0", r1), ("bias:0", rb1)]), ("dense_skip", [("kernel:0", rs), ("bias:0", rbs)]),
           ("add_1", []), ("dense_2", [("kernel:0", r2), ("bias:0", rb2)])])

    # a model DL4J cannot import: a Lambda layer between the two dense layers
    lam = {"class_name": "Lambda", "config": {"name": "lambda_1", "trainable": True, "dtype": "float32",
                                               "function": ["4wEAAAAAAAAAAQAAAAIAAABDAAAAcwgAAAB8AGQBFABTACkCTukC"
                                                            "AAAAKQApAdoBeHIBAAAAcgEAAAD6AXhyAgAAAAEAAABzAAAAAA==",
                                                            None, None],
                                               "function_type": "lambda", "output_shape": None,
                                               "output_shape_type": "raw", "arguments": {}}}
    bad = {"class_name": "Sequential", "config": {"name": "sequential_2", "layers": [
        dense("dense_1", HIDDEN, "relu", first=True), lam, dense("dense_2", 3, "softmax")]}}
    write(out + "/keras-lambda-layer.h5", bad, weights)

    # a regression model: the last layer is linear, not softmax
    reg = {"class_name": "Sequential", "config": {"name": "sequential_3", "layers": [
        dense("dense_1", HIDDEN, "relu", first=True), dense("dense_2", 3, "linear")]}}
    write(out + "/keras-linear-output.h5", reg, weights)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "common/src/test/resources/models")
