<?cs # notice.txt.cs - the text/plain half of the notice a patient receives.
     Rendered raw (text/plain); values are sealmail's own: the lab's name
     and contact, the link, the expiry date and the lab's reference.
     Never put message content here: the notice travels in the clear. ?>You have a secure message from <?cs var:Lab.Name ?>.

To read it, open this link and confirm who you are:

<?cs var:Link ?>

The message can be read until <?cs var:Expires ?>.
<?cs if:Reference ?>Reference: <?cs var:Reference ?>
<?cs /if ?>
For your privacy the message itself is not in this email.
<?cs if:Lab.Contact ?>Questions? Contact <?cs var:Lab.Name ?>: <?cs var:Lab.Contact ?>
<?cs /if ?>
