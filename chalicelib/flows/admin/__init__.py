"""The administration consoles (SPEC §2.11): who may do what (``capabilities``), finding
accounts (``directory``), acting on one (``accounts``), reading the audit log
(``audit_log``) and answering helpdesk tickets (``helpdesk``)."""
