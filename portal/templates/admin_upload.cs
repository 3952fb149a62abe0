<?cs # admin_upload.cs - recipients CSV upload with a dry-run option, and
     the outcome: counts, or every bad row by line. Answers are never shown. ?><nav class="admin-nav" aria-label="Admin"><a href="/admin/messages">Messages</a> <a href="/admin/recipients">Recipients</a> <a href="/admin/audit.csv">Audit export (CSV)</a>
<form class="inline" method="post" action="/admin/logout"><input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>"><span class="who"><?cs var:Admin.Login ?> (<?cs var:Admin.Role ?>)</span> <button type="submit">Log out</button></form></nav>
<div class="admin">
<h1>Recipients</h1>
<?cs if:Result.Errors ?><div class="error" role="alert"><p><?cs var:Result.Errors ?> bad row(s); nothing was imported.</p>
<ul class="row-errors">
<?cs each:e = Errors ?><li>line <?cs var:e.Line ?>: <?cs var:e.Reason ?></li>
<?cs /each ?></ul>
<?cs if:Result.More ?><p>... and <?cs var:Result.More ?> more.</p><?cs /if ?></div>
<?cs elif:Result.DryRun ?><p class="done" role="status">Dry run: <?cs var:Result.Rows ?> row(s) are valid. Nothing was written.</p>
<?cs elif:Result.Inserted ?><p class="done" role="status">Imported <?cs var:Result.Rows ?> row(s): <?cs var:Result.Inserted ?> new, <?cs var:Result.Updated ?> updated.</p>
<?cs /if ?><p>A CSV file (UTF-8, RFC 4180 quoting) with a header row naming at least the columns <code>address,kind,question,answer</code>; optional <code>recovery_email</code> and <code>phone</code>. kind is question, password, registered or pin. Answers are hashed on arrival. The import is all or nothing.</p>
<?cs if:Admin.CanChange ?><form class="upload" method="post" action="/admin/recipients" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>">
<label for="file">CSV file (at most 8 MB)</label>
<input id="file" name="file" type="file" accept=".csv,text/csv" required>
<label class="check"><input type="checkbox" name="dry_run" value="1"> Only check, write nothing (dry run)</label>
<button type="submit">Upload</button>
</form>
<?cs else ?><p>Your role (viewer) cannot upload recipients.</p>
<?cs /if ?></div>
