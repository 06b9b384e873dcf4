import BanjieWireFuzzSupport

/// libFuzzer's entry point: the input is the bytes a peer sends after its preface.
/// Any violated invariant stops the run with the input saved as a crash file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = Array(UnsafeBufferPointer(start: data, count: size))
  let report = WireFuzzChecks.checkFrames(input)
  if let violation = report.violations.first {
    fatalError("FrameDecoder invariant violated: \(violation)")
  }
  return 0
}
