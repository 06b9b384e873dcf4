import BanjieWire
import GRPCCore
import NIOCore
import Synchronization

/// The server side's outbound half of one call.
struct ServerStreamWriter: ClosableRPCWriterProtocol {
  typealias Element = RPCResponsePart<BanjieBytes>
  let core: ConnectionCore
  let streamID: UInt32

  func write(_ element: Element) async throws {
    switch element {
    case .metadata(let metadata):
      try self.core.writeResponseHeaders(streamID: self.streamID, metadata: metadata)
    case .message(let bytes):
      try await self.core.writeMessage(streamID: self.streamID, bytes.buffer)
    case .status(let status, let metadata):
      self.core.writeTrailers(streamID: self.streamID, status: status, metadata: metadata)
    }
  }

  func write(contentsOf elements: some Sequence<Element>) async throws {
    for element in elements { try await self.write(element) }
  }

  func finish() async {}

  func finish(throwing error: any Error) async {
    self.core.reset(streamID: self.streamID, code: WireStatus.internalError, message: "the server failed the call")
  }
}

/// The client side of one call: opens the stream on the first part (metadata) so that stream
/// ids go out in increasing order.
final class ClientStream: Sendable {
  let core: ConnectionCore
  let path: String
  let inbox: StreamInbox<RPCResponsePart<BanjieBytes>>
  private let idBox: LockedBox<UInt32?>

  init(core: ConnectionCore, path: String) {
    self.core = core
    self.path = path
    let box = LockedBox<UInt32?>(nil)
    self.idBox = box
    self.inbox = StreamInbox { [weak core] bytes in
      guard let id = box.get() else { return }
      core?.consumed(streamID: id, bytes: bytes)
    }
  }

  var streamID: UInt32? { self.idBox.get() }

  func write(_ part: RPCRequestPart<BanjieBytes>) async throws {
    switch part {
    case .metadata(let metadata):
      guard self.streamID == nil else { throw RPCError(code: .internalError, message: "request metadata written twice") }
      let id: UInt32
      do {
        id = try self.core.openStream(path: self.path, metadata: metadata, inbox: self.inbox)
      } catch {
        // The connection went away between reserving the slot and opening the stream (a
        // GOAWAY or a close that raced the call): no stream exists to end the response side,
        // so end it here, or the caller would wait for a response until its deadline.
        let status = Status(
          code: Status.Code((error as? RPCError)?.code ?? .unavailable), message: (error as? RPCError)?.message ?? "\(error)")
        self.inbox.yield(.status(status, [:]))
        self.inbox.finish()
        throw error
      }
      self.idBox.set(id)
    case .message(let bytes):
      guard let id = self.streamID else { throw RPCError(code: .internalError, message: "request message before metadata") }
      try await self.core.writeMessage(streamID: id, bytes.buffer)
    }
  }

  func finish() {
    if let id = self.streamID { self.core.writeEndStream(streamID: id) }
  }

  /// The call's request side failed: the stream ends with that error's status (for example
  /// RESOURCE_EXHAUSTED for a message above the server's limit), or CANCELLED.
  func cancel(_ error: any Error) {
    guard let id = self.streamID else { return }
    if let rpc = error as? RPCError {
      self.core.reset(streamID: id, code: UInt8(Status.Code(rpc.code).rawValue), message: rpc.message)
    } else {
      self.core.reset(streamID: id, code: WireStatus.cancelled, message: "the client cancelled the call")
    }
  }

  /// The call's task is done: free the slot, resetting the stream if still open.
  func release() {
    if let id = self.streamID {
      self.core.release(streamID: id)
    } else {
      self.core.releaseSlot()
    }
  }
}

struct ClientStreamWriter: ClosableRPCWriterProtocol {
  typealias Element = RPCRequestPart<BanjieBytes>
  let stream: ClientStream

  func write(_ element: Element) async throws { try await self.stream.write(element) }

  func write(contentsOf elements: some Sequence<Element>) async throws {
    for element in elements { try await self.stream.write(element) }
  }

  func finish() async { self.stream.finish() }

  func finish(throwing error: any Error) async { self.stream.cancel(error) }
}
