"""RabbitMQ topology, the transactional outbox and its relay, and the inbox consumer."""
