#!/usr/bin/python3
"""Writes the small ONNX models that Inferium's tests and demo functions use.

Run from anywhere with Debian's interpreter (it needs only python3-onnx, python3-numpy and,
for the Iris demo, python3-sklearn):

    /usr/bin/python3 functions/src/test/python/make_models.py

The output is deterministic (fixed seeds, no timestamps) and committed, so the Java build never
needs Python. Models meant to be valid pass onnx.checker; the deliberately broken ones are built
by hand and say in their docstring what is wrong with them.
"""

import json
import pathlib

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import checker, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[4]
TEST_MODELS = ROOT / "functions" / "src" / "test" / "resources" / "models"
DEMO = ROOT / "engine" / "src" / "main" / "resources" / "demo"

# ONNX Runtime 1.29 accepts these; opset 17 / IR 8 is also what the Debian onnx (1.12) checker knows.
OPSET = 17
IR_VERSION = 8
PRODUCER = "inferium-make-models"


def model(graph, opsets=None, ir_version=IR_VERSION):
    m = helper.make_model(
        graph,
        opset_imports=opsets or [helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version="1",
    )
    m.ir_version = ir_version
    return m


def tensor(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def save(m, directory, name, check=True):
    if check:
        checker.check_model(m)
    data = m.SerializeToString()
    write_bytes(directory, name, data)
    return data


def write_bytes(directory, name, data):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    assert len(data) < 200 * 1024, f"{name} is {len(data)} bytes"
    print(f"{path.relative_to(ROOT)}: {len(data)} bytes")


def add_model():
    """a + b and a * b on [batch, 4] floats: the smallest useful function."""
    nodes = [
        helper.make_node("Add", ["a", "b"], ["sum"], name="add"),
        helper.make_node("Mul", ["a", "b"], ["product"], name="mul"),
    ]
    shape = ["batch", 4]
    graph = helper.make_graph(
        nodes, "add",
        [tensor("a", T.FLOAT, shape), tensor("b", T.FLOAT, shape)],
        [tensor("sum", T.FLOAT, shape), tensor("product", T.FLOAT, shape)])
    return model(graph)


# Every element type Inferium carries, by the suffix used in input and output names.
ALL_TYPES = {
    "bool": T.BOOL, "uint8": T.UINT8, "uint16": T.UINT16, "uint32": T.UINT32,
    "uint64": T.UINT64, "int8": T.INT8, "int16": T.INT16, "int32": T.INT32, "int64": T.INT64,
    "float16": T.FLOAT16, "float": T.FLOAT, "double": T.DOUBLE, "string": T.STRING,
}

# Types for which ONNX Runtime 1.29's CPU provider has an Add kernel AND its Java API can build an
# input tensor. The CPU kernels cover uint16/uint32/uint64 too, but OnnxJavaType has no unsigned
# type wider than UINT8, so a Java caller could not feed them and the whole session would be
# unusable from Java. bfloat16 has no CPU Add kernel. Probed against ORT 1.29.0 from Java; the
# Python side has no runtime, so the list is written down here.
ADD_TYPES = ["uint8", "int8", "int16", "int32", "int64", "float16", "float", "double"]


def all_types_model():
    """One Identity per element type: the I/O metadata of every type Inferium carries.

    ORT 1.29's Java API cannot build uint16/uint32/uint64 tensors, so from Java this model can be
    loaded and inspected but not run; arith_types is the runnable one.
    """
    nodes, inputs, outputs = [], [], []
    for name, elem in ALL_TYPES.items():
        nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"], name=f"id_{name}"))
        inputs.append(tensor(f"in_{name}", elem, ["batch", 3]))
        outputs.append(tensor(f"out_{name}", elem, ["batch", 3]))
    return model(helper.make_graph(nodes, "all_types", inputs, outputs))


def arith_types_model():
    """x + x for each numeric type and Not for bool: outputs that differ from the inputs."""
    nodes, inputs, outputs = [], [], []
    for name in ADD_TYPES:
        nodes.append(helper.make_node("Add", [f"in_{name}", f"in_{name}"], [f"out_{name}"], name=f"add_{name}"))
    nodes.append(helper.make_node("Not", ["in_bool"], ["out_bool"], name="not_bool"))
    for name in ADD_TYPES + ["bool"]:
        inputs.append(tensor(f"in_{name}", ALL_TYPES[name], ["batch", 3]))
        outputs.append(tensor(f"out_{name}", ALL_TYPES[name], ["batch", 3]))
    return model(helper.make_graph(nodes, "arith_types", inputs, outputs))


def casts_and_strings_model():
    """Unsigned outputs ORT's Java API can return but not accept (Cast from int64), and strings.

    Inputs: x INT64 [batch,3], text STRING [batch]. Outputs: x as uint16, uint32 and uint64
    (negative values wrap, as C++ casts do), and text unchanged.
    """
    nodes = [
        helper.make_node("Cast", ["x"], ["x_u16"], to=T.UINT16),
        helper.make_node("Cast", ["x"], ["x_u32"], to=T.UINT32),
        helper.make_node("Cast", ["x"], ["x_u64"], to=T.UINT64),
        helper.make_node("Identity", ["text"], ["text_out"]),
    ]
    graph = helper.make_graph(
        nodes, "casts_and_strings",
        [tensor("x", T.INT64, ["batch", 3]), tensor("text", T.STRING, ["batch"])],
        [tensor("x_u16", T.UINT16, ["batch", 3]), tensor("x_u32", T.UINT32, ["batch", 3]),
         tensor("x_u64", T.UINT64, ["batch", 3]), tensor("text_out", T.STRING, ["batch"])],
    )
    return model(graph)


def gather_model():
    """y = table[i] for a constant table of 10 floats (0.0, 1.5, ... 13.5); i INT64 [batch].

    An index outside [-10, 9] passes every signature check yet fails inside the runtime: the mempool
    test uses it to show a bad request in a batch fails alone.
    """
    table = numpy_helper.from_array((np.arange(10, dtype=np.float32) * 1.5), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "i"], ["y"], axis=0)], "gather",
        [tensor("i", T.INT64, ["batch"])], [tensor("y", T.FLOAT, ["batch"])], initializer=[table],
    )
    return model(graph)


def fixed_shape_model():
    """[2,3] @ [3,2]: no symbolic dimension anywhere, so batching must not touch it."""
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")], "fixed_shape",
        [tensor("x", T.FLOAT, [2, 3])], [tensor("y", T.FLOAT, [2, 2])], initializer=[w])
    return model(graph)


def counting_loop(trip_count_nodes, trip_count, inputs, initializers, name):
    """A Loop that adds 1.0 to x once per trip: y = x + trip count.

    The cond input is left empty so only the trip count ends the loop; nothing in the body lets ORT
    prove it finishes early, so a huge trip count keeps a session busy for as long as it is allowed.
    """
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
            helper.make_node("Add", ["acc_in", "one"], ["acc_out"], name="increment"),
        ],
        "body",
        [tensor("i", T.INT64, []), tensor("cond_in", T.BOOL, []), tensor("acc_in", T.FLOAT, [1])],
        [tensor("cond_out", T.BOOL, []), tensor("acc_out", T.FLOAT, [1])],
        initializer=[numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")])
    loop = helper.make_node("Loop", [trip_count, "", "x"], ["y"], name="count", body=body)
    graph = helper.make_graph(
        trip_count_nodes + [loop], name, inputs, [tensor("y", T.FLOAT, [1])], initializer=initializers)
    return model(graph)


def loop_by_input_model():
    """Runs `iterations[0]` trips: 0 returns at once, 10^18 never returns in practice."""
    scalar_shape = numpy_helper.from_array(np.array([], dtype=np.int64), "scalar_shape")
    to_scalar = helper.make_node("Reshape", ["iterations", "scalar_shape"], ["trip_count"], name="to_scalar")
    return counting_loop(
        [to_scalar], "trip_count",
        [tensor("iterations", T.INT64, [1]), tensor("x", T.FLOAT, [1])],
        [scalar_shape], "loop_by_input")


def hang_always_model():
    """The same loop with a constant 2^62 trips: any inference on it hangs."""
    trips = numpy_helper.from_array(np.array(2 ** 62, dtype=np.int64), "trip_count")
    return counting_loop([], "trip_count", [tensor("x", T.FLOAT, [1])], [trips], "hang_always")


def nan_output_model():
    """y = x / x: a zero in x gives NaN in y, for tests of non-finite outputs."""
    graph = helper.make_graph(
        [helper.make_node("Div", ["x", "x"], ["y"], name="div")], "nan_output",
        [tensor("x", T.FLOAT, ["batch", 2])], [tensor("y", T.FLOAT, ["batch", 2])])
    return model(graph)


def expand_by_input_model():
    """y = Expand(x, shape): x FP32 [3, 1], the target shape an INT64 [2] input.

    Valid, and it answers [3, 4] for shape = [3, 4]; but zeros, the synthesized smoke input, ask to
    broadcast 3 rows to 0, which ONNX Runtime refuses: the deploy tests' model that only makes sense
    on the developer's own examples.
    """
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])], "expand_by_input",
        [tensor("x", T.FLOAT, [3, 1]), tensor("shape", T.INT64, [2])],
        [tensor("y", T.FLOAT, ["rows", "cols"])])
    return model(graph)


def div_int_model():
    """q = a / b on INT32 [n]: integer division, which a zero divisor (the synthesized input) makes fail."""
    graph = helper.make_graph(
        [helper.make_node("Div", ["a", "b"], ["q"])], "div_int",
        [tensor("a", T.INT32, ["n"]), tensor("b", T.INT32, ["n"])],
        [tensor("q", T.INT32, ["n"])])
    return model(graph)


def local_function_model():
    """y = (x + x) * x through a model-local function, as newer PyTorch exporters write models.

    The call node's domain (com.example.fns) names the function, not an operator library; the
    operators that run are the Add and Mul in its body.
    """
    body = helper.make_function(
        "com.example.fns", "DoubleThenSquare", ["x"], ["y"],
        [helper.make_node("Add", ["x", "x"], ["twice"]), helper.make_node("Mul", ["twice", "x"], ["y"])],
        [helper.make_opsetid("", OPSET)])
    graph = helper.make_graph(
        [helper.make_node("DoubleThenSquare", ["x"], ["y"], name="call", domain="com.example.fns")],
        "local_function",
        [tensor("x", T.FLOAT, ["batch", 2])], [tensor("y", T.FLOAT, ["batch", 2])])
    m = model(graph, [helper.make_opsetid("", OPSET), helper.make_opsetid("com.example.fns", 1)])
    m.functions.append(body)
    return m


def custom_domain_model():
    """A node from a custom operator domain, which only a custom-op library could run."""
    graph = helper.make_graph(
        [helper.make_node("Backdoor", ["x"], ["y"], name="backdoor", domain="com.evil.ops")],
        "custom_domain",
        [tensor("x", T.FLOAT, ["batch", 2])], [tensor("y", T.FLOAT, ["batch", 2])])
    return model(graph, [helper.make_opsetid("", OPSET), helper.make_opsetid("com.evil.ops", 1)])


def external_data_model():
    """An initializer stored "outside" the file, at a path that escapes any model directory.

    Not checker-valid (the checker would look for the file), which is the point.
    """
    w = T()
    w.name = "w"
    w.data_type = T.FLOAT
    w.dims.extend([4])
    w.data_location = T.EXTERNAL
    for key, value in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "16")):
        entry = w.external_data.add()
        entry.key = key
        entry.value = value
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"], name="add")], "external_data",
        [tensor("x", T.FLOAT, ["batch", 4])], [tensor("y", T.FLOAT, ["batch", 4])], initializer=[w])
    return model(graph)


def future_opset_model():
    """Stamped with default-domain opset 99, which no runtime implements."""
    m = add_model()
    m.graph.name = "future_opset"
    del m.opset_import[:]
    m.opset_import.append(helper.make_opsetid("", 99))
    return m


def untyped_io_model():
    """Graph input `x` is a bare name with no type, so nothing can be said about what it takes."""
    x = onnx.ValueInfoProto()
    x.name = "x"
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"], name="id")], "untyped_io",
        [x], [tensor("y", T.FLOAT, ["batch", 2])])
    return model(graph)


def crash_tree_ensemble_model():
    """Aborts ONNX Runtime 1.29.0 natively while the session is created (SIGABRT, exit 134).

    A one-node ai.onnx.ml TreeEnsemble (ml opset 5) whose tree_roots entry points far past the only
    node. ORT's TreeEnsembleAttributesV5 conversion indexes the node arrays with it unchecked; the
    released library is built with _GLIBCXX_ASSERTIONS, so the bad index aborts the process.
    Upstream fixed this after 1.29.0 ("Validate TreeEnsemble v5 node references"); after an ORT
    upgrade the model will likely be refused cleanly, and the test that uses it says so.
    Standard domains and opsets only: it passes every static check, so only a sandbox load finds it.
    """
    root = 1 << 20
    node = helper.make_node(
        "TreeEnsemble", ["X"], ["Y"], domain="ai.onnx.ml",
        aggregate_function=1, post_transform=0, n_targets=1,
        tree_roots=[root],
        nodes_featureids=[0],
        nodes_modes=numpy_helper.from_array(np.array([0], np.uint8), "nodes_modes"),
        nodes_splits=numpy_helper.from_array(np.array([0.5], np.float32), "nodes_splits"),
        nodes_truenodeids=[0], nodes_trueleafs=[1],
        nodes_falsenodeids=[0], nodes_falseleafs=[1],
        leaf_targetids=[0],
        leaf_weights=numpy_helper.from_array(np.array([1.0], np.float32), "leaf_weights"),
    )
    graph = helper.make_graph(
        [node], "crash_tree_ensemble",
        [tensor("X", T.FLOAT, ["N", 1])],
        [tensor("Y", T.FLOAT, ["N", 1])],
    )
    return model(graph, opsets=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", 5)])


def iris_model():
    """Multinomial logistic regression on sklearn's bundled Iris data, as a plain ONNX graph."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris()
    x, labels = iris.data.astype(np.float64), iris.target
    mean, scale = x.mean(axis=0), x.std(axis=0)
    clf = LogisticRegression(C=10.0, max_iter=1000).fit((x - mean) / scale, labels)
    print(f"iris training accuracy: {clf.score((x - mean) / scale, labels):.3f}")

    initializers = [
        numpy_helper.from_array(mean.astype(np.float32), "mean"),
        numpy_helper.from_array(scale.astype(np.float32), "scale"),
        numpy_helper.from_array(clf.coef_.T.astype(np.float32), "weights"),
        numpy_helper.from_array(clf.intercept_.astype(np.float32), "bias"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centered"], name="center"),
        helper.make_node("Div", ["centered", "scale"], ["standardized"], name="standardize"),
        helper.make_node("MatMul", ["standardized", "weights"], ["projected"], name="project"),
        helper.make_node("Add", ["projected", "bias"], ["logits"], name="bias"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
        helper.make_node("ArgMax", ["logits"], ["label"], name="argmax", axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "iris", [tensor("features", T.FLOAT, ["batch", 4])],
        [tensor("probabilities", T.FLOAT, ["batch", 3]), tensor("label", T.INT64, ["batch"])],
        initializer=initializers)
    m = model(graph)
    m.doc_string = "Iris species from sepal and petal length and width in cm (logistic regression)."

    # The graph must agree with sklearn on the training set, or the export is wrong.
    logits = ((x - mean) / scale).astype(np.float32) @ clf.coef_.T.astype(np.float32) + clf.intercept_
    assert (logits.argmax(axis=1) == clf.predict((x - mean) / scale)).all()
    return m, [str(n) for n in iris.target_names]


def main():
    add_bytes = save(add_model(), TEST_MODELS, "add.onnx")
    save(all_types_model(), TEST_MODELS, "all_types.onnx")
    save(arith_types_model(), TEST_MODELS, "arith_types.onnx")
    save(fixed_shape_model(), TEST_MODELS, "fixed_shape.onnx")
    save(gather_model(), TEST_MODELS, "gather.onnx")
    save(casts_and_strings_model(), TEST_MODELS, "casts_and_strings.onnx")
    save(loop_by_input_model(), TEST_MODELS, "loop_by_input.onnx")
    save(hang_always_model(), TEST_MODELS, "hang_always.onnx")
    save(nan_output_model(), TEST_MODELS, "nan_output.onnx")
    save(expand_by_input_model(), TEST_MODELS, "expand_by_input.onnx")
    save(div_int_model(), TEST_MODELS, "div_int.onnx")
    save(custom_domain_model(), TEST_MODELS, "custom_domain.onnx")
    save(local_function_model(), TEST_MODELS, "local_function.onnx")
    save(external_data_model(), TEST_MODELS, "external_data.onnx", check=False)
    save(future_opset_model(), TEST_MODELS, "future_opset.onnx", check=False)
    save(untyped_io_model(), TEST_MODELS, "untyped_io.onnx", check=False)
    save(crash_tree_ensemble_model(), TEST_MODELS, "crash_tree_ensemble.onnx", check=False)
    write_bytes(TEST_MODELS, "garbage.onnx", np.random.default_rng(20240607).bytes(4096))
    write_bytes(TEST_MODELS, "truncated.onnx", add_bytes[: len(add_bytes) // 2])

    write_bytes(DEMO, "add.onnx", add_bytes)
    iris, labels = iris_model()
    save(iris, DEMO, "iris.onnx")
    meta = {"labels": labels, "example": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}
    write_bytes(DEMO, "iris.json", (json.dumps(meta, indent=2) + "\n").encode())


if __name__ == "__main__":
    main()
