"""The bus between sensors and servers: an in-process queue (all-in-one) or NATS JetStream (distributed).

``interface`` declares what both offer (publish a batch; fetch deliveries and ack/nak them),
``memory`` and ``jetstream`` implement it, ``sender`` drains a sensor's spool onto a publisher.
"""
