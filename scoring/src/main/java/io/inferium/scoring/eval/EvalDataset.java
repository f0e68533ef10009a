package io.inferium.scoring.eval;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * An evaluation dataset: rows of inputs and expected outputs, parsed from JSONL or CSV.
 *
 * <p>JSONL: one JSON object per line. For tensor-style functions (classifier, regressor) each row
 * has {@code input} (an array of numbers: one row of the function's first input) and {@code expected}
 * (a label or class index for classifiers, a number for regressors). Text and embedding rows are kept
 * as written ({@code query}/{@code passage}, {@code prompt}/{@code reference}, {@code choices}/{@code gold},
 * {@code instructions}).
 *
 * <p>CSV: a header line; the column named {@code expected} (or {@code label}, {@code target}) is the
 * expected output, every other column is a numeric input feature in header order. RFC 4180: fields may be
 * quoted (with commas, quotes and newlines inside); a leading byte-order mark is ignored.
 *
 * <p>zip (base64): a labelled image or clip set, see {@link MediaArchive}; JSONL rows may also carry one file
 * each, {@code {"image" | "audio": <base64>, "expected": label}}.
 */
public record EvalDataset(List<JsonObject> rows) {

  /** Most rows a dataset may hold. */
  public static final int MAX_ROWS = 100_000;

  public int size() {
    return rows.size();
  }

  /**
   * Parses {@code text} in {@code format} ({@code jsonl} or {@code csv}).
   *
   * @throws IllegalArgumentException naming the line that is wrong
   */
  public static EvalDataset parse(String format, String text) {
    List<JsonObject> rows = switch (format) {
      case "jsonl" -> jsonl(text);
      case "csv" -> csv(text);
      case "zip" -> MediaArchive.rows(text);
      default -> throw new IllegalArgumentException("field 'format': expected jsonl | csv | zip, got '" + format + "'");
    };
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("the dataset has no rows");
    }
    if (rows.size() > MAX_ROWS) {
      throw new IllegalArgumentException("the dataset has " + rows.size() + " rows, more than " + MAX_ROWS);
    }
    return new EvalDataset(List.copyOf(rows));
  }

  private static List<JsonObject> jsonl(String text) {
    List<JsonObject> rows = new ArrayList<>();
    String[] lines = text.split("\r?\n");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      JsonObject row;
      try {
        row = new JsonObject(line);
      } catch (DecodeException e) {
        throw new IllegalArgumentException("line " + (i + 1) + ": not a JSON object");
      }
      if (row.containsKey("input") && !(row.getValue("input") instanceof JsonArray)) {
        throw new IllegalArgumentException("line " + (i + 1) + ": 'input' must be an array of numbers");
      }
      rows.add(row);
    }
    return rows;
  }

  private static final CSVFormat CSV = CSVFormat.RFC4180.builder().setIgnoreEmptyLines(true).get();

  private static List<JsonObject> csv(String text) {
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1); // a byte-order mark, as spreadsheet programs write
    }
    List<JsonObject> rows = new ArrayList<>();
    try (CSVParser parser = CSVParser.parse(text, CSV)) {
      Iterator<CSVRecord> records = parser.iterator();
      CSVRecord headerRecord = next(records, parser);
      if (headerRecord == null) {
        throw new IllegalArgumentException("line 1: expected a header");
      }
      String[] header = new String[headerRecord.size()];
      int target = -1;
      for (int c = 0; c < header.length; c++) {
        header[c] = headerRecord.get(c).strip();
        if (header[c].equals("expected") || header[c].equals("label") || header[c].equals("target")) {
          target = c;
        }
      }
      if (target < 0) {
        throw new IllegalArgumentException("line 1: no column named expected, label or target");
      }
      for (CSVRecord record = next(records, parser); record != null; record = next(records, parser)) {
        String where = "line " + record.getRecordNumber();
        if (record.size() == 1 && record.get(0).isBlank()) {
          continue;
        }
        if (record.size() != header.length) {
          throw new IllegalArgumentException(where + ": expected " + header.length + " values, got " + record.size());
        }
        JsonArray input = new JsonArray();
        for (int c = 0; c < header.length; c++) {
          if (c == target) {
            continue;
          }
          try {
            input.add(Double.parseDouble(record.get(c).strip()));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ", column '" + header[c] + "': expected a number, got '"
                + record.get(c) + "'");
          }
        }
        String expected = record.get(target).strip();
        Object value = expected;
        try {
          value = Double.parseDouble(expected);
        } catch (NumberFormatException e) {
          // a label
        }
        rows.add(new JsonObject().put("input", input).put("expected", value));
        if (rows.size() > MAX_ROWS) {
          throw new IllegalArgumentException("the dataset has more than " + MAX_ROWS + " rows");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // parsing a String does not do I/O
    }
    return rows;
  }

  /**
   * A CSV table with a header as rows of strings keyed by the (stripped) header names; {@code what} names the file in
   * messages.
   */
  static EvalDataset table(String text, String what) {
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    List<JsonObject> rows = new ArrayList<>();
    try (CSVParser parser = CSVParser.parse(text, CSV)) {
      Iterator<CSVRecord> records = parser.iterator();
      CSVRecord header = next(records, parser);
      if (header == null) {
        throw new IllegalArgumentException(what + " line 1: expected a header");
      }
      for (CSVRecord record = next(records, parser); record != null; record = next(records, parser)) {
        if (record.size() == 1 && record.get(0).isBlank()) {
          continue;
        }
        if (record.size() != header.size()) {
          throw new IllegalArgumentException(what + " line " + record.getRecordNumber() + ": expected " + header.size()
              + " values, got " + record.size());
        }
        JsonObject row = new JsonObject();
        for (int c = 0; c < header.size(); c++) {
          row.put(header.get(c).strip(), record.get(c).strip());
        }
        rows.add(row);
        if (rows.size() > MAX_ROWS) {
          throw new IllegalArgumentException(what + " has more than " + MAX_ROWS + " rows");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new EvalDataset(rows);
  }

  /** The next record (null after the last), or the parser's complaint (an unterminated quote, a stray quote). */
  private static CSVRecord next(Iterator<CSVRecord> records, CSVParser parser) {
    try {
      return records.hasNext() ? records.next() : null;
    } catch (UncheckedIOException e) {
      throw new IllegalArgumentException("line " + parser.getCurrentLineNumber() + ": not valid CSV ("
          + e.getCause().getMessage() + ")");
    }
  }

  /** The numeric input of every row, as float rows (all of one width). */
  public float[][] inputs() {
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < rows.size(); i++) {
      JsonArray in = rows.get(i).getJsonArray("input");
      if (in == null) {
        throw new IllegalArgumentException("row " + (i + 1) + ": no 'input'");
      }
      out[i] = new float[in.size()];
      for (int j = 0; j < in.size(); j++) {
        out[i][j] = ((Number) in.getValue(j)).floatValue();
      }
      if (out[i].length != out[0].length) {
        throw new IllegalArgumentException("row " + (i + 1) + ": " + out[i].length + " inputs, the first row has "
            + out[0].length);
      }
    }
    return out;
  }

  /**
   * Expected class indices: a label is looked up in {@code labels}, a number is taken as the index.
   */
  public int[] expectedClasses(List<String> labels) {
    int[] out = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      Object e = rows.get(i).getValue("expected");
      int idx = e instanceof Number n ? n.intValue() : labels.indexOf(String.valueOf(e));
      if (idx < 0 || (!labels.isEmpty() && idx >= labels.size())) {
        throw new IllegalArgumentException("row " + (i + 1) + ": expected '" + e + "' is not one of " + labels);
      }
      out[i] = idx;
    }
    return out;
  }

  /** Expected numbers (regression targets). */
  public double[] expectedValues() {
    double[] out = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      if (!(rows.get(i).getValue("expected") instanceof Number n)) {
        throw new IllegalArgumentException("row " + (i + 1) + ": 'expected' must be a number");
      }
      out[i] = n.doubleValue();
    }
    return out;
  }
}
