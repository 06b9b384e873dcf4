public import BanjieProto
public import GRPCCore
import Synchronization

/// Echoes what it is sent, with one method of each kind. Counts what it does so that tests can
/// see how far a handler got (for example while a reader has stopped reading).
public final class EchoService: Banjie_V1_EchoService.SimpleServiceProtocol {
  public struct Counters: Sendable {
    public var responsesWritten = 0
    public var cancellationsSeen = 0
    public var callsStarted = 0
  }

  private let counters = CounterBox()

  private final class CounterBox: Sendable {
    let state = Mutex(Counters())
    func withLock<R>(_ body: (inout Counters) -> R) -> R { self.state.withLock { body(&$0) } }
  }

  public init() {}

  public var snapshot: Counters { self.counters.withLock { $0 } }

  public func get(request: Banjie_V1_EchoRequest, context: ServerContext) async throws -> Banjie_V1_EchoResponse {
    self.counters.withLock { $0.callsStarted += 1 }
    if request.delayMs > 0 { try await self.wait(milliseconds: request.delayMs, context: context) }
    var response = Banjie_V1_EchoResponse()
    response.text = request.text
    response.payload = request.payload
    return response
  }

  public func expand(request: Banjie_V1_EchoRequest, response: RPCWriter<Banjie_V1_EchoResponse>, context: ServerContext) async throws {
    self.counters.withLock { $0.callsStarted += 1 }
    if request.delayMs > 0 { try await self.wait(milliseconds: request.delayMs, context: context) }
    for index in 0..<request.count {
      var message = Banjie_V1_EchoResponse()
      message.text = request.text
      message.payload = request.payload
      message.index = index
      try await response.write(message)
      self.counters.withLock { $0.responsesWritten += 1 }
    }
  }

  public func collect(request: RPCAsyncSequence<Banjie_V1_EchoRequest, any Error>, context: ServerContext) async throws
    -> Banjie_V1_EchoResponse
  {
    self.counters.withLock { $0.callsStarted += 1 }
    var texts: [String] = []
    var count: UInt32 = 0
    for try await message in request {
      texts.append(message.text)
      count += 1
    }
    var response = Banjie_V1_EchoResponse()
    response.text = texts.joined(separator: " ")
    response.index = count
    return response
  }

  public func update(
    request: RPCAsyncSequence<Banjie_V1_EchoRequest, any Error>, response: RPCWriter<Banjie_V1_EchoResponse>, context: ServerContext
  ) async throws {
    self.counters.withLock { $0.callsStarted += 1 }
    var index: UInt32 = 0
    for try await message in request {
      var reply = Banjie_V1_EchoResponse()
      reply.text = message.text
      reply.index = index
      index += 1
      try await response.write(reply)
    }
  }

  /// Waits, but returns as soon as the RPC is cancelled (client cancel or deadline).
  private func wait(milliseconds: UInt32, context: ServerContext) async throws {
    let counters = self.counters
    try await withRPCCancellationHandler {
      let deadline = ContinuousClock.now + .milliseconds(Int(milliseconds))
      while ContinuousClock.now < deadline {
        if context.cancellation.isCancelled { throw RPCError(code: .cancelled, message: "cancelled") }
        try await Task.sleep(for: .milliseconds(5))
      }
    } onCancelRPC: {
      counters.withLock { $0.cancellationsSeen += 1 }
    }
  }
}
