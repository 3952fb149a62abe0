<?cs # footer.cs - the bottom of every portal page. ?></main>
<footer class="foot">
<?cs if:Lab.Contact ?><p><?cs var:Text.Contact ?> <?cs var:Lab.Contact ?></p><?cs /if ?>
<p><?cs var:Text.Footer ?></p>
</footer>
</body>
</html>
