package io.inferium.functions.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class V2JsonTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "{'name':'x','datatype':'BOOL','shape':[2,2],'data':[true,false,false,true]}",
      "{'name':'x','datatype':'UINT8','shape':[4],'data':[0,1,254,255]}",
      "{'name':'x','datatype':'UINT16','shape':[2],'data':[0,65535]}",
      "{'name':'x','datatype':'UINT32','shape':[2],'data':[0,4294967295]}",
      "{'name':'x','datatype':'UINT64','shape':[4],"
          + "'data':[0,9223372036854775807,9223372036854775808,18446744073709551615]}",
      "{'name':'x','datatype':'INT8','shape':[3],'data':[-128,0,127]}",
      "{'name':'x','datatype':'INT16','shape':[2],'data':[-32768,32767]}",
      "{'name':'x','datatype':'INT32','shape':[2],'data':[-2147483648,2147483647]}",
      "{'name':'x','datatype':'INT64','shape':[2],'data':[-9223372036854775808,9223372036854775807]}",
      "{'name':'x','datatype':'FP16','shape':[2,3],"
          + "'data':[1.0,-2.25,65504.0,0.099975586,5.9604645E-8,'-Infinity']}",
      "{'name':'x','datatype':'BF16','shape':[4],'data':[1.0,3.140625,-0.0,'NaN']}",
      "{'name':'x','datatype':'FP32','shape':[5],'data':[1.1,-0.0,3.4028235E38,1.4E-45,'Infinity']}",
      "{'name':'x','datatype':'FP64','shape':[4],'data':[0.1,-1.0E-300,1.7976931348623157E308,'NaN']}",
      "{'name':'x','datatype':'BYTES','shape':[3],'data':['hello','','h\u00e9llo \u2713']}",
  })
  void decodeThenEncodeGivesTheSameJson(String single) {
    String json = single.replace('\'', '"');
    assertEquals(json, V2Json.encodeOutput(V2Json.decodeInput(new JsonObject(json))).encode());
  }

  @Test
  void fixedWidthDataIsLittleEndian() {
    Tensor t = decode("{'name':'a','datatype':'INT32','shape':[2],'data':[1,-2]}");
    assertArrayEquals(new byte[] {1, 0, 0, 0, -2, -1, -1, -1}, t.bytes());
    Tensor s = decode("{'name':'s','datatype':'BYTES','shape':[2],'data':['ab','']}");
    assertArrayEquals(new byte[] {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0}, s.bytes());
  }

  @Test
  void nestedDataIsFlattenedRowMajor() {
    Tensor t = decode("{'name':'a','datatype':'FP32','shape':[2,3],'data':[[1,2,3],[4,5,6]]}");
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Tensors.toFloatArray(t));
    assertEquals(new JsonArray("[1.0,2.0,3.0,4.0,5.0,6.0]"), V2Json.encodeOutput(t).getJsonArray("data"));
    assertEquals(new JsonArray("[2,3]"), V2Json.encodeOutput(t).getJsonArray("shape"));

    Tensor deep = decode("{'name':'a','datatype':'INT64','shape':[2,1,2],'data':[[[1,2]],[[3,4]]]}");
    assertArrayEquals(new long[] {1, 2, 3, 4}, Tensors.toLongArray(deep));
  }

  @Test
  void raggedNestingStillFlattensInOrder() {
    Tensor t = decode("{'name':'a','datatype':'INT64','shape':[2,3],'data':[[1],[2,3,4],[[5],6]]}");
    assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6}, Tensors.toLongArray(t));
  }

  @Test
  void rankZeroScalar() {
    Tensor t = decode("{'name':'a','datatype':'FP64','shape':[],'data':[2.5]}");
    assertArrayEquals(new long[0], t.shape());
    assertEquals(1, t.elementCount());
    assertEquals("{\"name\":\"a\",\"datatype\":\"FP64\",\"shape\":[],\"data\":[2.5]}",
        V2Json.encodeOutput(t).encode());
    // A bare value is taken as the single element.
    assertEquals(t, decode("{'name':'a','datatype':'FP64','shape':[],'data':2.5}"));
  }

  @Test
  void emptyTensors() {
    Tensor t = decode("{'name':'a','datatype':'FP32','shape':[0],'data':[]}");
    assertEquals(0, t.byteSize());
    assertEquals("{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[0],\"data\":[]}",
        V2Json.encodeOutput(t).encode());
    assertEquals(0, decode("{'name':'a','datatype':'INT8','shape':[2,0],'data':[[],[]]}").byteSize());
    Tensor s = decode("{'name':'s','datatype':'BYTES','shape':[0,4],'data':[]}");
    assertEquals(new JsonArray(), V2Json.encodeOutput(s).getJsonArray("data"));
  }

  @Test
  void uint64Extremes() {
    Tensor t = decode("{'name':'u','datatype':'UINT64','shape':[1],'data':[18446744073709551615]}");
    assertArrayEquals(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, t.bytes());
    assertEquals("[18446744073709551615]", V2Json.encodeOutput(t).getJsonArray("data").encode());
    assertArrayEquals(new long[] {-1}, Tensors.toLongArray(t));
    // Jackson hands integers beyond long over as BigInteger; a BigDecimal with no fraction is fine too.
    Tensor fromJava = V2Json.decodeInput(new JsonObject().put("name", "u").put("datatype", "UINT64")
        .put("shape", new JsonArray().add(1)).put("data", new JsonArray()
            .add(new java.math.BigDecimal("18446744073709551614.000"))));
    assertArrayEquals(new long[] {-2}, Tensors.toLongArray(fromJava));
  }

  @Test
  void nonFiniteFloatsTravelAsStrings() {
    for (String type : new String[] {"FP16", "BF16", "FP32", "FP64"}) {
      Tensor t = decode("{'name':'f','datatype':'" + type + "','shape':[7],"
          + "'data':['NaN','Infinity','-Infinity','inf','-INF','nan','+Infinity']}");
      double[] values = Tensors.toDoubleArray(t);
      assertEquals(Double.NaN, values[0]);
      assertEquals(Double.POSITIVE_INFINITY, values[1]);
      assertEquals(Double.NEGATIVE_INFINITY, values[2]);
      assertEquals(Double.POSITIVE_INFINITY, values[3]);
      assertEquals(Double.NEGATIVE_INFINITY, values[4]);
      assertEquals(Double.NaN, values[5]);
      assertEquals(Double.POSITIVE_INFINITY, values[6]);
      assertEquals(
          "[\"NaN\",\"Infinity\",\"-Infinity\",\"Infinity\",\"-Infinity\",\"NaN\",\"Infinity\"]",
          V2Json.encodeOutput(t).getJsonArray("data").encode(), type);
    }
    Tensor overflow = decode("{'name':'f','datatype':'FP32','shape':[2],'data':[1e39,-1e39]}");
    assertEquals("[\"Infinity\",\"-Infinity\"]", V2Json.encodeOutput(overflow).getJsonArray("data").encode());
  }

  @Test
  void lenientButLosslessNumberForms() {
    Tensor ints = decode("{'name':'i','datatype':'INT32','shape':[3],'data':[3.0,1e3,-0.0]}");
    assertArrayEquals(new long[] {3, 1000, 0}, Tensors.toLongArray(ints));
    Tensor bools = decode("{'name':'b','datatype':'BOOL','shape':[3],'data':[0,1,true]}");
    assertEquals("[false,true,true]", V2Json.encodeOutput(bools).getJsonArray("data").encode());
    Tensor lower = decode("{'name':'l','datatype':'fp32','shape':[1],'data':[1]}");
    assertEquals(DataType.FP32, lower.type());
    Tensor dims = decode("{'name':'d','datatype':'INT8','shape':[2.0],'data':[1,2]}");
    assertArrayEquals(new long[] {2}, dims.shape());
  }

  @Test
  void halfInputsRoundOnceFromTheJsonDouble() {
    double justBelowMidpoint = 1 + 3 * 0x1p-11 - 0x1p-40;
    Tensor t = V2Json.decodeInput(new JsonObject().put("name", "h").put("datatype", "FP16")
        .put("shape", new JsonArray().add(1)).put("data", new JsonArray().add(justBelowMidpoint)));
    assertArrayEquals(new byte[] {0x01, 0x3c}, t.bytes());
  }

  @Test
  void headerErrors() {
    assertError("input needs a 'name': expected a non-empty string, got null",
        "{'datatype':'FP32','shape':[1],'data':[1]}");
    assertError("input needs a 'name': expected a non-empty string, got \"\"",
        "{'name':'','datatype':'FP32','shape':[1],'data':[1]}");
    assertError("input needs a 'name': expected a non-empty string, got 7",
        "{'name':7,'datatype':'FP32','shape':[1],'data':[1]}");
    assertError("input 'a': unknown datatype \"FP8\", expected one of BOOL, UINT8, UINT16, UINT32,"
            + " UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES",
        "{'name':'a','datatype':'FP8','shape':[1],'data':[1]}");
    assertError("input 'a': 'datatype' must be one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16,"
            + " INT32, INT64, FP16, BF16, FP32, FP64, BYTES, got null",
        "{'name':'a','shape':[1],'data':[1]}");
    assertError("input 'a': 'shape' must be an array of non-negative integers, got null",
        "{'name':'a','datatype':'FP32','data':[1]}");
    assertError("input 'a': 'shape' must be an array of non-negative integers, got \"2x4\"",
        "{'name':'a','datatype':'FP32','shape':'2x4','data':[1]}");
    assertError("input 'a': shape dimension 1 must be a non-negative integer, got -1",
        "{'name':'a','datatype':'FP32','shape':[2,-1],'data':[1]}");
    assertError("input 'a': shape dimension 0 must be a non-negative integer, got 1.5",
        "{'name':'a','datatype':'FP32','shape':[1.5],'data':[1]}");
    assertError("input 'a': shape [4294967296,4294967296] has more elements than a tensor can hold",
        "{'name':'a','datatype':'FP32','shape':[4294967296,4294967296],'data':[1]}");
    assertError("input 'a': missing 'data'", "{'name':'a','datatype':'FP32','shape':[1]}");
    assertError("input 'a': missing 'data'", "{'name':'a','datatype':'FP32','shape':[1],'data':null}");
    assertError("input 'a': binary_data_size is set, but the request has no Inference-Header-Content-Length header"
            + " to say where the JSON ends and the binary data begin",
        "{'name':'a','datatype':'FP32','shape':[1],'parameters':{'binary_data_size':4}}");
  }

  @Test
  void elementCountMustMatchTheShape() {
    assertError("input 'a': shape [2,4] needs 8 elements, got 7",
        "{'name':'a','datatype':'FP32','shape':[2,4],'data':[1,2,3,4,5,6,7]}");
    assertError("input 'a': shape [] needs 1 element, got 0",
        "{'name':'a','datatype':'FP32','shape':[],'data':[]}");
    assertError("input 'a': shape [2,2] needs 4 elements, got 5",
        "{'name':'a','datatype':'INT8','shape':[2,2],'data':[[1,2],[3,4,5]]}");
    assertError("input 'a': shape [3] needs 3 elements, got 1",
        "{'name':'a','datatype':'BYTES','shape':[3],'data':'abc'}");
  }

  @Test
  void elementErrorsNameTheInputAndTheFlatIndex() {
    assertError("input 'a': element 1 of BOOL must be true or false (or 0 or 1), got \"yes\"",
        "{'name':'a','datatype':'BOOL','shape':[2],'data':[true,'yes']}");
    assertError("input 'a': element 0 of BOOL must be true or false (or 0 or 1), got 2",
        "{'name':'a','datatype':'BOOL','shape':[1],'data':[2]}");
    assertError("input 'a': element 3 of UINT8 must be an integer in 0..255, got 256",
        "{'name':'a','datatype':'UINT8','shape':[2,2],'data':[[1,2],[3,256]]}");
    assertError("input 'a': element 0 of UINT8 must be an integer in 0..255, got -1",
        "{'name':'a','datatype':'UINT8','shape':[1],'data':[-1]}");
    assertError("input 'a': element 0 of UINT16 must be an integer in 0..65535, got 1.5",
        "{'name':'a','datatype':'UINT16','shape':[1],'data':[1.5]}");
    assertError("input 'a': element 0 of INT8 must be an integer in -128..127, got -129",
        "{'name':'a','datatype':'INT8','shape':[1],'data':[-129]}");
    assertError("input 'a': element 0 of INT32 must be an integer in -2147483648..2147483647, got \"3\"",
        "{'name':'a','datatype':'INT32','shape':[1],'data':['3']}");
    assertError("input 'a': element 0 of UINT32 must be an integer in 0..4294967295, got 4294967296",
        "{'name':'a','datatype':'UINT32','shape':[1],'data':[4294967296]}");
    assertError("input 'a': element 1 of UINT64 must be an integer in 0..18446744073709551615,"
            + " got 18446744073709551616",
        "{'name':'a','datatype':'UINT64','shape':[2],'data':[1,18446744073709551616]}");
    assertError("input 'a': element 0 of UINT64 must be an integer in 0..18446744073709551615, got -1",
        "{'name':'a','datatype':'UINT64','shape':[1],'data':[-1]}");
    assertError("input 'a': element 0 of INT64 must be an integer in"
            + " -9223372036854775808..9223372036854775807, got 9223372036854775808",
        "{'name':'a','datatype':'INT64','shape':[1],'data':[9223372036854775808]}");
    assertError("input 'a': element 0 of INT64 must be an integer in -9223372036854775808..9223372036854775807"
            + " (write integers above 2^53 without a fraction or exponent), got 1.0E17",
        "{'name':'a','datatype':'INT64','shape':[1],'data':[1e17]}");
    assertError("input 'a': element 2 of FP32 must be a number or one of \"NaN\", \"Infinity\","
            + " \"-Infinity\", got \"abc\"",
        "{'name':'a','datatype':'FP32','shape':[3],'data':[1,2,'abc']}");
    assertError("input 'a': element 0 of FP16 must be a number or one of \"NaN\", \"Infinity\","
            + " \"-Infinity\", got true",
        "{'name':'a','datatype':'FP16','shape':[1],'data':[true]}");
    assertError("input 'a': element 1 of BYTES must be a string, got 5",
        "{'name':'a','datatype':'BYTES','shape':[2],'data':['x',5]}");
    assertError("input 'a': element 0 of FP64 must be a number or one of \"NaN\", \"Infinity\","
            + " \"-Infinity\", got an object",
        "{'name':'a','datatype':'FP64','shape':[1],'data':[{'v':1}]}");
    assertError("input 'a': element 0 of INT8 must be an integer in -128..127, got null",
        "{'name':'a','datatype':'INT8','shape':[1],'data':[null]}");
  }

  @Test
  void encodingRejectsATensorWhoseBytesDoNotMatchItsShape() {
    Tensor broken = new Tensor("o", DataType.FP32, new long[] {2}, java.nio.ByteBuffer.allocate(4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> V2Json.encodeOutput(broken));
    assertEquals("tensor 'o': FP32[2] needs 8 bytes, has 4", e.getMessage());
  }

  @Test
  void shapeJson() {
    assertEquals("[]", V2Json.shapeJson(new long[0]).encode());
    assertEquals("[1,3,224,224]", V2Json.shapeJson(new long[] {1, 3, 224, 224}).encode());
  }

  private static Tensor decode(String singleQuoted) {
    return V2Json.decodeInput(new JsonObject(singleQuoted.replace('\'', '"')));
  }

  private static void assertError(String message, String singleQuoted) {
    TensorFormatException e = assertThrows(TensorFormatException.class, () -> decode(singleQuoted));
    assertEquals(message, e.getMessage());
  }

  @Test
  void aBinaryInputWhoseByteCountOverflowsIsRefusedNamingItsShape() {
    // 2^60 × 4 FP32 elements are 2^64 bytes, which wraps to 0 in plain long arithmetic and matched an
    // empty binary_data_size before the size check was made exact.
    JsonObject input = new JsonObject().put("name", "x").put("datatype", "FP32")
        .put("shape", new JsonArray().add(1L << 60).add(4))
        .put("parameters", new JsonObject().put("binary_data_size", 0));
    TensorFormatException e = assertThrows(TensorFormatException.class,
        () -> V2Json.decodeBinaryInput(input, java.nio.ByteBuffer.allocate(0)));
    assertEquals("input 'x': shape [1152921504606846976,4] of FP32 has more bytes than a tensor can hold", e.getMessage());

    JsonObject strings = new JsonObject().put("name", "s").put("datatype", "BYTES")
        .put("shape", new JsonArray().add(1L << 40))
        .put("parameters", new JsonObject().put("binary_data_size", 8));
    TensorFormatException tooMany = assertThrows(TensorFormatException.class,
        () -> V2Json.decodeBinaryInput(strings, java.nio.ByteBuffer.allocate(8)));
    assertEquals("input 's': shape [1099511627776] of BYTES needs at least 1099511627776 4-byte length prefixes, "
        + "binary_data_size is 8", tooMany.getMessage());
  }
}
