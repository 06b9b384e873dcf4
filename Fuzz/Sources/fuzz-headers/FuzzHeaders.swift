import BanjieWireFuzzSupport

/// libFuzzer's entry point: the input is one HEADERS or TRAILERS payload (both are tried).
/// Any violated invariant stops the run with the input saved as a crash file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeaders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = Array(UnsafeBufferPointer(start: data, count: size))
  let report = WireFuzzChecks.checkPayloads(input)
  if let violation = report.violations.first {
    fatalError("HEADERS/TRAILERS invariant violated: \(violation)")
  }
  return 0
}
