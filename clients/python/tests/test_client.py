"""The Python client against a running gateway (OpenApiIT starts one and runs this with its address and key).

Environment: INFERIUM_URL, INFERIUM_KEY (an admin key), and the functions deployed there: INFERIUM_TENSOR_MODEL
(inputs a and b, FP32 [-1, 4], output their sum), INFERIUM_TEXT_MODEL (text generation), INFERIUM_EMBED_MODEL.
"""

import json
import os
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from inferium_client import InferiumClient, InferiumError, Tensor  # noqa: E402

URL = os.environ.get("INFERIUM_URL")
KEY = os.environ.get("INFERIUM_KEY")
TENSOR = os.environ.get("INFERIUM_TENSOR_MODEL", "adder")
TEXT = os.environ.get("INFERIUM_TEXT_MODEL", "tiny-gpt")
EMBED = os.environ.get("INFERIUM_EMBED_MODEL", "tiny-embed")


@unittest.skipUnless(URL and KEY, "set INFERIUM_URL and INFERIUM_KEY to run against a gateway")
class ClientTest(unittest.TestCase):

    def setUp(self):
        self.client = InferiumClient(URL, KEY, timeout=60)

    def test_the_client_covers_the_documented_operations_it_names(self):
        with urllib.request.urlopen(URL + "/openapi.json", timeout=30) as resp:
            doc = json.load(resp)
        for path, method in [("/api/functions", "get"), ("/api/functions/{name}", "get"),
                             ("/v2/models/{name}/infer", "post"), ("/v1/completions", "post"),
                             ("/v1/chat/completions", "post"), ("/v1/embeddings", "post"), ("/api/usage", "get"),
                             ("/api/receipts/{requestId}", "get")]:
            self.assertIn(method, doc["paths"][path], path)

    def test_list_and_get_functions(self):
        names = [f.name for f in self.client.list_functions()]
        self.assertIn(TENSOR, names)
        self.assertEqual([TEXT], [f.name for f in self.client.list_functions(kind="text-generation") if f.name == TEXT])
        fn = self.client.get_function(TENSOR)
        self.assertEqual(TENSOR, fn.name)
        self.assertEqual("ready", fn.state)
        self.assertIsInstance(fn.raw["versions"], list)

    def test_infer_adds_and_its_receipt_appears(self):
        a = [1.5, 2.0, -3.0, 4.25, 0.0, 1.0, 2.0, 3.0]
        b = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
        resp = self.client.infer(TENSOR, [Tensor("a", "FP32", [2, 4], a), Tensor("b", "FP32", [2, 4], b)], id="py-1")
        self.assertEqual(TENSOR, resp.model_name)
        self.assertEqual("py-1", resp.id)
        out = resp.outputs[0]
        self.assertEqual("FP32", out.datatype)
        self.assertEqual([2, 4], out.shape)
        self.assertEqual([x + y for x, y in zip(a, b)], out.data)
        self.assertTrue(resp.request_id)
        self.assertTrue(resp.billed)
        deadline = time.monotonic() + 30
        while True:
            try:
                receipt = self.client.receipt(resp.request_id)
                break
            except InferiumError as e:
                if e.status != 404 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.assertEqual(resp.request_id, receipt["request_id"])
        self.assertEqual(TENSOR, receipt["receipt"]["function"])

    def test_a_wrong_input_is_a_typed_error_naming_it(self):
        with self.assertRaises(InferiumError) as caught:
            self.client.infer(TENSOR, [Tensor("a", "FP32", [1, 3], [1, 2, 3]), Tensor("b", "FP32", [1, 4], [1, 2, 3, 4])])
        self.assertEqual(400, caught.exception.status)
        self.assertEqual("bad_request", caught.exception.code)
        self.assertIn("input 'a'", caught.exception.message)
        with self.assertRaises(InferiumError) as missing:
            self.client.get_function("no-such-function")
        self.assertEqual((404, "not_found"), (missing.exception.status, missing.exception.code))
        with self.assertRaises(InferiumError) as unauthorized:
            InferiumClient(URL, "not-a-key").list_functions()
        self.assertEqual(401, unauthorized.exception.status)

    def test_completions_whole_and_streamed_agree(self):
        whole = self.client.completions(TEXT, "The license", max_tokens=8, temperature=0)
        self.assertTrue(whole.id.startswith("cmpl-"))
        self.assertEqual(whole.usage.prompt_tokens + whole.usage.completion_tokens, whole.usage.total_tokens)
        chunks = list(self.client.stream_completions(TEXT, "The license", max_tokens=8, temperature=0, include_usage=True))
        self.assertGreater(len(chunks), 1)
        self.assertEqual(whole.text, "".join(c.text for c in chunks))
        self.assertEqual(whole.finish_reasons[0], [c.finish_reasons[0] for c in chunks if c.finish_reasons][-1])
        self.assertEqual(whole.usage, chunks[-1].usage)

    def test_chat_and_its_stream(self):
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
        whole = self.client.chat(TEXT, messages, max_completion_tokens=6, temperature=0)
        self.assertTrue(whole.id.startswith("chatcmpl-"))
        chunks = list(self.client.stream_chat(TEXT, messages, max_completion_tokens=6, temperature=0))
        self.assertEqual("assistant", chunks[0].raw["choices"][0]["delta"]["role"])
        self.assertEqual(whole.content, "".join(c.content for c in chunks))

    def test_openai_errors_carry_code_and_param(self):
        with self.assertRaises(InferiumError) as caught:
            self.client.completions(TEXT, "x", response_format={"type": "json_object"})
        self.assertEqual(400, caught.exception.status)
        self.assertEqual("response_format", caught.exception.param)
        with self.assertRaises(InferiumError) as unknown:
            self.client.chat("no-such-model", [{"role": "user", "content": "hi"}])
        self.assertEqual((404, "model_not_found"), (unknown.exception.status, unknown.exception.code))
        self.assertTrue(unknown.exception.request_id.startswith("req_"))

    def test_embeddings(self):
        result = self.client.embeddings(EMBED, ["one", "two words"])
        self.assertEqual(EMBED, result.model)
        self.assertEqual([0, 1], [e.index for e in result.data])
        self.assertEqual(len(result.data[0].embedding), len(result.data[1].embedding))
        self.assertTrue(all(isinstance(x, float) for x in result.data[0].embedding))
        self.assertGreater(result.usage.prompt_tokens, 0)

    def test_usage_counts_the_calls(self):
        self.client.infer(TENSOR, [Tensor("a", "FP32", [1, 4], [1, 2, 3, 4]), Tensor("b", "FP32", [1, 4], [4, 3, 2, 1])])
        # Usage is metered from completion events, a moment after the answer.
        deadline = time.monotonic() + 30
        usage = self.client.usage(group_by="function")
        while TENSOR not in [g["function"] for g in usage["groups"]] and time.monotonic() < deadline:
            time.sleep(0.2)
            usage = self.client.usage(group_by="function")
        self.assertEqual("function", usage["group_by"])
        self.assertIn(TENSOR, [g["function"] for g in usage["groups"]])
        self.assertGreater(usage["requests"], 0)
        with self.assertRaises(InferiumError) as bad:
            self.client.usage(group_by="week")
        self.assertIn("group_by", bad.exception.message)


if __name__ == "__main__":
    unittest.main()
